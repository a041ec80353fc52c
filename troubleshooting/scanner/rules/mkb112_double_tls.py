"""MKB-112 double-tls: a DestinationRule originates TLS to a port the application already speaks TLS to."""

from __future__ import annotations

import copy

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation
from ..hosts import matches
from ..mesh import dr_object, host_of, ports_of, se_port_protocol, tls_settings

RULE = Rule(
    id="MKB-112",
    slug="double-tls",
    title="TLS originated by the sidecar on top of the application's own TLS",
    severity="error",
    description=(
        "A DestinationRule sets tls.mode SIMPLE or MUTUAL for a host whose port is declared HTTPS or TLS (by a "
        "ServiceEntry, or a Service port name/appProtocol). A port declared HTTPS/TLS means the application itself "
        "speaks TLS; the sidecar wraps it in a second TLS session and the server finds a ClientHello where it "
        "expects HTTP: 'wrong version number'."
    ),
)


def _tls_ports(snapshot, dr):
    """(port number, declared protocol, declaring object) for HTTPS/TLS ports of the DR's host."""
    host = host_of(snapshot, dr.spec["host"], dr.namespace)
    svc = snapshot.services_by_host.get(host)
    if svc is not None:
        for p in svc.spec["ports"]:
            protocol = proto.service_port_protocol(p["port"], p["name"], p["protocol"], p["appProtocol"])
            if proto.is_tls(protocol):
                yield p["port"], protocol, svc
    for se_host, ses in snapshot.serviceentries_by_host.items():
        if not matches(se_host, host):
            continue
        for se in ses:
            for p in ports_of(se):
                if proto.is_tls(se_port_protocol(p)):
                    yield p.get("number"), se_port_protocol(p), se


@RULE
def check(snapshot):
    findings = []
    for dr in snapshot.of_kind("DestinationRule"):
        tp = dr.spec.get("trafficPolicy") or {}
        if not tp.get("tls") and not any(i.get("tls") for i in tp.get("portLevelSettings") or ()):
            continue
        hits = []
        for number, protocol, obj in _tls_ports(snapshot, dr):
            tls = tls_settings(dr, number)
            if tls and (tls.get("mode") or "").upper() in ("SIMPLE", "MUTUAL"):
                hits.append((number, protocol, obj, tls["mode"]))
        if not hits:
            continue
        number, protocol, obj, mode = hits[0]
        message = (f"DestinationRule {dr.namespace}/{dr.name} originates TLS (mode {mode}) to {dr.spec['host']}:{number}, "
                   f"which {obj.kind} {obj.namespace}/{obj.name} declares {protocol}: the application already speaks "
                   f"TLS there, the sidecar wraps it in a second TLS session, and the handshake fails with 'wrong "
                   f"version number' (or the server answers 400).")
        spec = copy.deepcopy(dr.spec)
        tp = spec.get("trafficPolicy") or {}
        ports = {h[0] for h in hits}
        if tp.get("tls") and (tp["tls"].get("mode") or "").upper() in ("SIMPLE", "MUTUAL"):
            tp.pop("tls")
        for item in tp.get("portLevelSettings") or ():
            if (item.get("port") or {}).get("number") in ports:
                item.pop("tls", None)
        tp["portLevelSettings"] = [i for i in tp.get("portLevelSettings") or () if set(i) - {"port"}]
        if not tp["portLevelSettings"]:
            tp.pop("portLevelSettings")
        if tp:
            spec["trafficPolicy"] = tp
        else:
            spec.pop("trafficPolicy", None)
        summary = ("Stop originating TLS for a port where the application already does TLS: remove the tls settings "
                   "from the DestinationRule. (If the sidecar is meant to originate TLS, declare the port HTTP instead "
                   "and let the application call http://host:" + str(number) + ".)")
        if set(spec) - {"host", "exportTo", "workloadSelector"}:
            remediation = Remediation(summary=summary, objects=[dr_object(dr, spec)])
        else:
            remediation = Remediation(summary=summary + " Nothing else is left in the rule, so delete it.",
                                      deletes=[dr.ref])
        findings.append(RULE.finding(
            dr.ref, message, related=[o.ref for _, _, o, _ in hits],
            evidence={"host": dr.spec["host"], "ports": [{"port": n, "declared": p, "by": str(o), "dr_tls_mode": m}
                                                         for n, p, o, m in hits]},
            remediation=remediation))
    return findings
