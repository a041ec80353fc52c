"""MKB-108 tcp-serviceentry-without-addresses: an opaque TCP ServiceEntry port binds 0.0.0.0:<port>."""

from __future__ import annotations

import copy
import ipaddress

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation, placeholder
from ..mesh import auto_allocation, istio_object, ports_of, se_port_protocol

RULE = Rule(
    id="MKB-108",
    slug="tcp-serviceentry-without-addresses",
    title="TCP ServiceEntry without addresses captures every connection on its port",
    severity="warning",
    description=(
        "A ServiceEntry port whose protocol is TCP, unset, MySQL, Mongo or Redis, with no spec.addresses and no "
        "DNS auto-allocation (ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE in the mesh defaultConfig) "
        "(IST0134, extended to the other opaque TCP protocols). Opaque TCP can only be matched by destination IP, "
        "so the entry takes the wildcard listener 0.0.0.0:<port>: connections to other hosts on that port go to "
        "it, or bypass REGISTRY_ONLY."
    ),
)

OPAQUE = {proto.TCP, "", proto.MYSQL, proto.MONGO, proto.REDIS}
TLS_PORTS = {443, 8443, 6443, 9443}


@RULE
def check(snapshot):
    if auto_allocation(snapshot):
        return []
    findings = []
    for se in snapshot.of_kind("ServiceEntry"):
        if se.spec.get("addresses") or (se.extra or {}).get("status_addresses"):
            continue
        bad = [(i, p) for i, p in enumerate(ports_of(se)) if se_port_protocol(p) in OPAQUE]
        if not bad:
            continue
        ports_text = ", ".join(f"{p.get('number')} ({p.get('protocol') or 'no protocol'})" for _, p in bad)
        message = (f"ServiceEntry {se.namespace}/{se.name} declares opaque TCP port{'s' if len(bad) > 1 else ''} "
                   f"{ports_text} for {', '.join(se.spec.get('hosts') or [])} without addresses. Without a virtual IP "
                   f"istiod can only bind it to 0.0.0.0:{bad[0][1].get('number')}: every connection from the sidecars "
                   f"on that port that has no more specific listener is sent to these hosts or passed through "
                   f"unchecked.")
        evidence = {"hosts": se.spec.get("hosts") or [],
                    "ports": [{"number": p.get("number"), "name": p.get("name"), "protocol": p.get("protocol") or None}
                              for _, p in bad],
                    "resolution": se.spec.get("resolution") or "NONE", "addresses": None, "dns_auto_allocation": False}
        findings.append(RULE.finding(se.ref, message, evidence=evidence, remediation=_remediation(se, bad),
                                     discriminator=",".join(str(p.get("number")) for _, p in bad)))
    return findings


def _endpoint_ips(se) -> list[str]:
    out = []
    for e in se.spec.get("endpoints") or ():
        addr = e.get("address")
        try:
            ip = ipaddress.ip_address(addr)
        except (TypeError, ValueError):
            return []
        out.append(f"{ip}/{32 if ip.version == 4 else 128}")
    return out


def _remediation(se, bad) -> Remediation:
    spec = copy.deepcopy(se.spec)
    ports = spec.get("ports") or []
    notes = []
    need_addresses = False
    for i, p in bad:
        if p.get("number") in TLS_PORTS and len(bad) == 1 and se_port_protocol(p) in (proto.TCP, ""):
            ports[i] = {**ports[i], "protocol": "TLS", "name": "tls" if not str(p.get("name", "")).startswith("tls") else p["name"]}
            notes.append(f"port {p.get('number')} carries TLS: declare it TLS so that it is matched by SNI, no address needed")
        else:
            need_addresses = True
    if need_addresses:
        ips = _endpoint_ips(se)
        spec["addresses"] = ips or [placeholder(f"the IP address or CIDR of {', '.join(se.spec.get('hosts') or [])}")]
        notes.append("give the entry the destination's addresses" + (" (from its endpoints)" if ips else "")
                     + " so that istiod builds a listener for those IPs only")
    return Remediation(
        summary=("; ".join(notes).capitalize() + ". Alternatively turn on DNS proxying with address auto-allocation "
                 "(meshConfig.defaultConfig.proxyMetadata ISTIO_META_DNS_CAPTURE and ISTIO_META_DNS_AUTO_ALLOCATE)."),
        objects=[istio_object(se, spec)])
