"""MKB-004 server-first-protocol-port-conflict: an HTTP port where server-first protocols are spoken."""

from __future__ import annotations

from collections import defaultdict

from .. import protocol as proto
from ..engine import Rule
from ..findings import Patch, Remediation, placeholder
from ..mesh import istio_object, ports_of, se_has_addresses, se_port_protocol

RULE = Rule(
    id="MKB-004",
    slug="server-first-protocol-port-conflict",
    title="HTTP declared on a port that server-first protocols (MySQL, SMTP, ...) use",
    severity="error",
    description=(
        "Services or ServiceEntries that declare HTTP (port name or appProtocol) on a port used by server-first "
        "protocols: a well-known one (SMTP 25/587, MySQL 3306, MongoDB 27017, FTP 21, POP3 110, IMAP 143, NATS "
        "4222) or a port that a ServiceEntry without its own addresses declares as TCP/MySQL/Mongo. Every sidecar "
        "then has an HTTP listener on 0.0.0.0:<port> that waits for the client to speak first, and connections "
        "to server-first servers on that port hang. A port declared TCP is fine."
    ),
)

_SERVER_FIRST_DECLARED = {proto.MYSQL, proto.MONGO}
_WILDCARD_TCP = {proto.TCP, proto.MYSQL, proto.MONGO, ""}


def _http_declarations(snapshot):
    """port -> [(obj, index, description)] for every HTTP-family port sidecars get a wildcard listener for."""
    found = defaultdict(list)
    for svc in snapshot.of_kind("Service"):
        if svc.annotations.get("networking.istio.io/exportTo", "").strip() == "~":
            continue
        for i, p in enumerate(svc.spec["ports"]):
            protocol = proto.service_port_protocol(p["port"], p["name"], p["protocol"], p["appProtocol"])
            if proto.is_http(protocol):
                how = f"appProtocol {p['appProtocol']!r}" if p["appProtocol"] else f"port name {p['name']!r}"
                found[p["port"]].append((svc, i, f"{how} → {protocol}"))
    for se in snapshot.of_kind("ServiceEntry"):
        for i, p in enumerate(ports_of(se)):
            protocol = se_port_protocol(p)
            if proto.is_http(protocol):
                found[p.get("number")].append((se, i, f"protocol {p.get('protocol')}"))
    return found


def _server_first_declarations(snapshot):
    """port -> [(obj, protocol)]: ServiceEntries whose server-first traffic goes through the wildcard listener."""
    found = defaultdict(list)
    for se in snapshot.of_kind("ServiceEntry"):
        if se_has_addresses(snapshot, se):
            continue
        for p in ports_of(se):
            protocol = se_port_protocol(p)
            if protocol in _WILDCARD_TCP:
                found[p.get("number")].append((se, protocol or proto.TCP))
    return found


@RULE
def check(snapshot):
    http = _http_declarations(snapshot)
    if not http:
        return []
    tcp = _server_first_declarations(snapshot)
    findings = []
    for port, declarers in sorted(http.items(), key=lambda kv: kv[0]):
        well_known = proto.SERVER_FIRST_PORTS.get(port)
        victims = tcp.get(port, [])
        if not well_known and not victims:
            continue
        severity = None if well_known or any(p in _SERVER_FIRST_DECLARED for _, p in victims) else "warning"
        for obj, index, how in declarers:
            reasons = []
            if well_known:
                reasons.append(f"{port} is the well-known {well_known} port")
            if victims:
                reasons.append("ServiceEntr" + ("ies " if len(victims) > 1 else "y ") + ", ".join(
                    f"{se.namespace}/{se.name} ({p})" for se, p in victims) + f" send{'s' if len(victims) == 1 else ''} "
                    f"{'its' if len(victims) == 1 else 'their'} {port} traffic through the same wildcard listener "
                    f"(no addresses of {'its' if len(victims) == 1 else 'their'} own)")
            message = (
                f"{obj.kind} {obj.namespace}/{obj.name} declares HTTP on port {port} ({how}), so every sidecar that "
                f"sees it gets an HTTP listener 0.0.0.0:{port} that waits for the client's first bytes; "
                f"{' and '.join(reasons)}. Server-first protocols (the server greets first) on that port hang until "
                f"a timeout: the client waits for the server, the sidecar waits for the client."
            )
            evidence = {
                "port": port,
                "declared": how,
                "well_known_server_first": well_known,
                "server_first_serviceentries": [{"serviceentry": f"{se.namespace}/{se.name}", "protocol": p}
                                                for se, p in victims],
            }
            findings.append(RULE.finding(obj.ref, message, related=[se.ref for se, _ in victims], evidence=evidence,
                                         severity=severity, remediation=_remediation(obj, index, port, well_known),
                                         discriminator=str(port)))
    return findings


def _remediation(obj, index, port, well_known) -> Remediation:
    others = ("Alternatively keep HTTP and give the server-first destination its own listener: a ServiceEntry with "
              "protocol TCP and its real IP in addresses, or exclude its IP range from the sidecar "
              "(traffic.sidecar.istio.io/excludeOutboundIPRanges).")
    if obj.kind == "Service":
        p = obj.spec["ports"][index]
        name = p["name"] or "port"
        new_name = "tcp-" + (name.split("-", 1)[1] if "-" in name else name)
        ops = [{"op": "replace" if p["name"] else "add", "path": f"/spec/ports/{index}/name", "value": new_name}]
        if p["appProtocol"]:
            ops.append({"op": "replace", "path": f"/spec/ports/{index}/appProtocol", "value": "tcp"})
        return Remediation(
            summary=(f"Declare port {port} of Service {obj.namespace}/{obj.name} as TCP (name {new_name}): the sidecars "
                     f"then build no HTTP listener on 0.0.0.0:{port} and server-first traffic passes. The Service loses "
                     f"HTTP-level routing and metrics on that port. " + others),
            patches=[Patch(obj.ref, ops, type="json")])
    spec = dict(obj.spec)
    ports = [dict(p) for p in ports_of(obj)]
    ports[index]["protocol"] = "TCP"
    ports[index]["name"] = "tcp-" + str(ports[index].get("name") or port)
    spec["ports"] = ports
    if not spec.get("addresses"):
        spec["addresses"] = [placeholder(f"the IP or CIDR of {', '.join(spec.get('hosts') or [])}")]
    return Remediation(
        summary=(f"Declare port {port} of ServiceEntry {obj.namespace}/{obj.name} as TCP with the destination's "
                 f"addresses (a TCP ServiceEntry without addresses would itself capture the whole port). " + others),
        objects=[istio_object(obj, spec)])
