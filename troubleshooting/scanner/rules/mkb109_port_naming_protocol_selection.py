"""MKB-109 port-naming-protocol-selection: Service ports whose name does not declare a protocol (IST0118)."""

from __future__ import annotations

from .. import protocol as proto
from ..engine import Rule
from ..findings import Patch, Remediation, placeholder
from ..snapshot import SYSTEM_NAMESPACES

RULE = Rule(
    id="MKB-109",
    slug="port-naming-protocol-selection",
    title="Service port without a protocol in its name or appProtocol: Istio sniffs the protocol",
    severity="info",
    description=(
        "Service ports that are unnamed or whose name does not start with a protocol (<protocol>[-<suffix>]) and "
        "have no appProtocol (IST0118). Istio then detects the protocol from the first bytes, which breaks "
        "server-first protocols and adds latency. Skips system namespaces, Istio control-plane and "
        "gateway-managed Services, UDP ports and ExternalName Services (see MKB-002)."
    ),
)


@RULE
def check(snapshot):
    findings = []
    for svc in snapshot.of_kind("Service"):
        if svc.namespace in SYSTEM_NAMESPACES or svc.spec["type"] == "ExternalName":
            continue
        if "istio" in svc.labels or svc.labels.get("release") == "istio" or "gateway.istio.io/managed" in svc.labels:
            continue
        bad = []
        for i, p in enumerate(svc.spec["ports"]):
            if proto.service_port_protocol(p["port"], p["name"], p["protocol"], p["appProtocol"]) == proto.UNSUPPORTED:
                bad.append((i, p))
        if not bad:
            continue
        text = ", ".join(f"{p['port']} ({'unnamed' if not p['name'] else repr(p['name'])})" for _, p in bad)
        message = (f"Service {svc.namespace}/{svc.name} has port{'s' if len(bad) > 1 else ''} {text} that declare"
                   f"{'s' if len(bad) == 1 else ''} no protocol (name <protocol>[-<suffix>] or appProtocol), so Istio "
                   f"sniffs the protocol of every connection to {'it' if len(bad) == 1 else 'them'}; server-first "
                   f"protocols then hang and HTTP features depend on detection.")
        ops = [{"op": "replace" if p["name"] else "add", "path": f"/spec/ports/{i}/name",
                "value": placeholder(f"<protocol>-{p['name'] or p['port']}, e.g. http-{p['name'] or p['port']} or tcp-{p['name'] or p['port']}")}
               for i, p in bad]
        findings.append(RULE.finding(
            svc.ref, message,
            evidence={"ports": [{"port": p["port"], "name": p["name"] or None, "targetPort": p["targetPort"]} for _, p in bad]},
            remediation=Remediation(summary=("Name each port after the protocol it carries (http, http2, grpc, tcp, tls, "
                                             "mysql, ...; a suffix after '-' is free) or set appProtocol."),
                                    patches=[Patch(svc.ref, ops, type="json")]),
            discriminator=",".join(str(p["port"]) for _, p in bad)))
    return findings
