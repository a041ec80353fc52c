"""MKB-002 externalname-service-hijacks-port: an ExternalName Service port becomes a catch-all listener."""

from __future__ import annotations

from troubleshooting.versions import AffectedVersions

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation, placeholder

RULE = Rule(
    id="MKB-002",
    slug="externalname-service-hijacks-port",
    title="ExternalName Service port captures all outbound traffic on that port",
    severity="error",
    versions="≤ 1.20; 1.21 – 1.23 with ENABLE_EXTERNAL_NAME_ALIAS=false",
    description=(
        "ExternalName Services with a port Istio treats as opaque TCP (unnamed, a name that declares no "
        "protocol, tcp, or mysql/mongo/redis) on Istio versions where ExternalName is not an alias: every "
        "sidecar gets a 0.0.0.0:<port> listener whose catch-all chain sends unrelated traffic on that port to "
        "the ExternalName's target. Nothing is reported on Istio 1.24 and later, or 1.21 – 1.23 with the alias "
        "on (the default); an unknown version counts as affected."
    ),
)

AFFECTED = AffectedVersions.from_data(
    [{"range": "<=1.20"}, {"range": ">=1.21,<1.24", "when": {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}}]
)
CATCH_ALL = {proto.TCP, proto.UNSUPPORTED, proto.MYSQL, proto.MONGO, proto.REDIS}
_NAMES = {443: "https", 8443: "https", 80: "http", 8080: "http"}


@RULE
def check(snapshot):
    planes = snapshot.control_planes
    affected = [p for p in planes if AFFECTED.applies(p.version, p.env)]
    if planes and not affected:
        return []
    findings = []
    for svc in snapshot.of_kind("Service"):
        if svc.spec["type"] != "ExternalName":
            continue
        bad = []
        for i, p in enumerate(svc.spec["ports"]):
            protocol = proto.service_port_protocol(p["port"], p["name"], p["protocol"], p["appProtocol"])
            if protocol in CATCH_ALL or (p["name"] == "tcp" and protocol != proto.UDP):
                bad.append((i, p, protocol))
        if not bad:
            continue
        ports_text = ", ".join(f"{p['port']} ({'unnamed' if not p['name'] else 'named ' + repr(p['name'])})" for _, p, _ in bad)
        if affected:
            where = "; ".join(f"istiod {p.namespace}/{p.name} is {p.version or 'of unknown version'}"
                              + (" with ENABLE_EXTERNAL_NAME_ALIAS=false" if p.env.get("ENABLE_EXTERNAL_NAME_ALIAS", "").lower() == "false" else "")
                              for p in affected)
            severity = None
        else:
            where = "the Istio version is unknown (no istiod Deployment in the snapshot)"
            severity = "warning"
        message = (
            f"ExternalName Service {svc.namespace}/{svc.name} (→ {svc.spec['externalName'] or '?'}) declares port "
            f"{ports_text}, which Istio treats as opaque TCP; {where}, so every sidecar gets a 0.0.0.0:"
            f"{bad[0][1]['port']} listener whose catch-all chain sends unrelated outbound traffic on that port to "
            f"{svc.spec['externalName'] or 'the external name'}: calls to other external hosts on port "
            f"{bad[0][1]['port']} reach the wrong server (TLS name mismatch, wrong answers)."
        )
        evidence = {
            "externalName": svc.spec["externalName"],
            "ports": [{"port": p["port"], "name": p["name"] or None, "appProtocol": p["appProtocol"] or None,
                       "istio_protocol": protocol} for _, p, protocol in bad],
            "control_planes": [{"istiod": f"{p.namespace}/{p.name}", "version": str(p.version) if p.version else None,
                                "ENABLE_EXTERNAL_NAME_ALIAS": p.env.get("ENABLE_EXTERNAL_NAME_ALIAS")} for p in planes],
            "affected_versions": AFFECTED.describe(),
        }
        related = [p.ref for p in affected]
        findings.append(RULE.finding(svc.ref, message, related=related, evidence=evidence, severity=severity,
                                     remediation=_remediation(svc, bad, affected),
                                     discriminator=",".join(str(p["port"]) for _, p, _ in bad)))
    return findings


def _remediation(svc, bad, affected) -> Remediation:
    ports = []
    bad_index = {i for i, _, _ in bad}
    used = {p["name"] for p in svc.spec["ports"] if p["name"]}
    unknown = False
    for i, p in enumerate(svc.spec["ports"]):
        port = {"name": p["name"], "port": p["port"], "protocol": p["protocol"] or "TCP"}
        if p["targetPort"] not in (None, p["port"]):
            port["targetPort"] = p["targetPort"]
        if i in bad_index:
            name = _NAMES.get(p["port"])
            if name is None:
                name = placeholder(f"<protocol>-{p['port']}, e.g. tls-{p['port']} or http-{p['port']}")
                unknown = True
            elif name in used:
                name = f"{name}-{p['port']}"
            used.add(name)
            port["name"] = name
        elif p["appProtocol"]:
            port["appProtocol"] = p["appProtocol"]
        if not port["name"]:
            del port["name"]
        ports.append(port)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": svc.metadata(),
        "spec": {"type": "ExternalName", "externalName": svc.spec["externalName"], "ports": ports},
    }
    summary = (f"Name the port{'s' if len(bad) > 1 else ''} of Service {svc.namespace}/{svc.name} after the protocol "
               f"really spoken (https/tls for TLS, http for plain HTTP) so that Istio matches by SNI or Host header "
               f"instead of catching every connection on the port")
    summary += ("; fill in the protocol for ports it cannot guess." if unknown else ".")
    commands = []
    for p in affected:
        if p.env.get("ENABLE_EXTERNAL_NAME_ALIAS", "").lower() == "false" and p.version and p.version.minor >= 21:
            commands.append(f"kubectl -n {p.namespace} set env deployment/{p.name} ENABLE_EXTERNAL_NAME_ALIAS=true")
            summary += (f" On istiod {p.namespace}/{p.name} ({p.version}) the simplest fix is to turn the alias "
                        f"behaviour back on; upgrading to Istio 1.24 or later removes the problem for good.")
    if not commands:
        summary += " Upgrading to Istio 1.21 or later (ExternalName as alias) also removes the problem."
    return Remediation(summary=summary, objects=[service], commands=commands)
