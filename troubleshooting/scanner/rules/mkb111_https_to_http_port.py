"""MKB-111 https-to-http-port: an external port 443 declared HTTP without TLS origination."""

from __future__ import annotations

import copy

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation
from ..mesh import effective_destination_rule, istio_object, ports_of, se_port_protocol, tls_settings

RULE = Rule(
    id="MKB-111",
    slug="https-to-http-port",
    title="External port 443 declared HTTP: TLS from the application is parsed as HTTP",
    severity="error",
    description=(
        "A MESH_EXTERNAL ServiceEntry declares port 443 as HTTP (or HTTP2/gRPC) and no DestinationRule "
        "originates TLS (mode SIMPLE or MUTUAL) for it. Applications that call https:// get the sidecar's "
        "plaintext 400 ('wrong version number'); plain http:// calls reach a TLS port unencrypted."
    ),
)


@RULE
def check(snapshot):
    findings = []
    for se in snapshot.of_kind("ServiceEntry"):
        if (se.spec.get("location") or "MESH_EXTERNAL") != "MESH_EXTERNAL":
            continue
        bad = [(i, p) for i, p in enumerate(ports_of(se)) if p.get("number") == 443 and proto.is_http(se_port_protocol(p))]
        if not bad:
            continue
        hosts = se.spec.get("hosts") or []
        uncovered = []
        for h in hosts:
            dr = effective_destination_rule(snapshot, h, se.namespace)
            tls = tls_settings(dr, 443) if dr else None
            if not tls or (tls.get("mode") or "").upper() not in ("SIMPLE", "MUTUAL"):
                uncovered.append(h)
        if not uncovered:
            continue
        i, p = bad[0]
        message = (f"ServiceEntry {se.namespace}/{se.name} declares port 443 of {', '.join(uncovered)} as "
                   f"{p.get('protocol')} and no DestinationRule originates TLS for it: the sidecar parses an "
                   f"application's TLS handshake as HTTP and answers 400 (curl: 'wrong version number'), and plain "
                   f"HTTP would leave the pod unencrypted towards a TLS port.")
        spec = copy.deepcopy(se.spec)
        spec["ports"][i] = {**spec["ports"][i], "protocol": "HTTPS", "name": "https"}
        findings.append(RULE.finding(
            se.ref, message, evidence={"hosts": uncovered, "port": 443, "protocol": p.get("protocol"),
                                       "tls_origination": None},
            remediation=Remediation(summary=("Declare port 443 as HTTPS so the sidecar passes the application's TLS "
                                             "through (matched by SNI). To originate TLS in the sidecar instead, keep HTTP "
                                             "and add a DestinationRule with tls.mode SIMPLE; applications must then call "
                                             "http://host:443."),
                                    objects=[istio_object(se, spec)])))
    return findings
