"""MKB-101 gateway-port-protocol-conflict: servers on one port whose protocols istiod cannot merge."""

from __future__ import annotations

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation, placeholder
from ..gateways import (HTTPS_PORT_NAME, NO_ROUTE_NAME, PROTOCOL_CONFLICT, TLS_WITHOUT_OPTIONS, dropped_servers,
                        gateway_object, merge_servers_remediation)

RULE = Rule(
    id="MKB-101",
    slug="gateway-port-protocol-conflict",
    title="Gateway servers on one port with protocols istiod cannot merge",
    severity="error",
    description=(
        "Servers of Gateways bound to the same gateway workload on the same port whose protocols cannot share "
        "a listener (HTTP and TCP, two TCP servers, plain HTTP next to HTTPS, HTTPS servers with the same port "
        "name). istiod keeps the server it processes first and skips the other one, hosts and all."
    ),
)

_REASONS = {
    PROTOCOL_CONFLICT: "its protocol cannot share the listener with the server already on that port",
    NO_ROUTE_NAME: "two servers of this protocol cannot share one port (istiod cannot build a route for it)",
    TLS_WITHOUT_OPTIONS: "it has no tls block but the port already carries TLS servers",
    HTTPS_PORT_NAME: "another HTTPS server on the port uses the same port name in the same Gateway",
}


@RULE
def check(snapshot):
    findings = []
    dropped = dropped_servers(snapshot, set(_REASONS))
    for (gw_key, index), items in dropped.items():
        wl, out = items[0]
        gw = out.gateway
        port = out.server.get("port") or {}
        winners = [w for _, o in items for w in o.winners]
        first = winners[0] if winners else None
        kept_text = (f"{(first.server.get('port') or {}).get('protocol', '?')} server of Gateway "
                     f"{first.gateway.namespace}/{first.gateway.name}" if first else "another server")
        message = (
            f"istiod skips the {port.get('protocol', '?')} server on port {out.port_text} of Gateway "
            f"{gw.namespace}/{gw.name} because {_REASONS[out.reason]} (the {kept_text}, processed first). "
            f"Its hosts {', '.join(out.hosts) or '(none)'} get nothing on port {out.declared_port}."
        )
        istiod_log = (f"skipping server on gateway {gw.name} port {port.get('name', '')}.{out.port}."
                      f"{port.get('protocol', '')}: conflict with existing server "
                      f"{first.port if first else out.port}.{(first.server.get('port') or {}).get('protocol', '') if first else ''}")
        evidence = {
            "port": out.declared_port,
            "listener_port": out.port,
            "protocol": port.get("protocol"),
            "server_index": index,
            "server_hosts": out.hosts,
            "reason": out.reason,
            "kept_server": (f"Gateway {first.gateway.namespace}/{first.gateway.name} servers[{first.index}] "
                            f"({(first.server.get('port') or {}).get('protocol')})") if first else None,
            "gateway_workloads": sorted({w.description for w, _ in items}),
            "istiod_log": istiod_log if out.reason == PROTOCOL_CONFLICT else None,
        }
        related = [w.gateway.ref for w in winners]
        for w, _ in items:
            related.extend(w.pod_refs)
        findings.append(RULE.finding(gw.ref, message, related=related, evidence=evidence,
                                     remediation=_remediation(snapshot, out, first),
                                     discriminator=f"{out.declared_port}/{index}"))
    return findings


def _remediation(snapshot, out, first) -> Remediation:
    gw = out.gateway
    if first is not None and out.protocol == first.protocol and not proto.is_http(out.protocol):
        # Two TCP (or TLS-without-SNI) servers: one listener can only forward one way; serve every host
        # from the older server and let VirtualService tcp routes pick the destination.
        return merge_servers_remediation(
            snapshot, first, [out],
            summary=(f"Two {out.protocol} servers cannot share port {out.port}: move the hosts of servers[{out.index}] "
                     f"of Gateway {gw.namespace}/{gw.name} into servers[{first.index}] of Gateway "
                     f"{first.gateway.namespace}/{first.gateway.name} and remove the skipped server."),
        )
    servers = [dict(s) for s in gw.spec.get("servers") or ()]
    server = dict(servers[out.index])
    port = dict(server.get("port") or {})
    if out.reason == HTTPS_PORT_NAME:
        port["name"] = f"{port.get('name', 'https')}-{out.index}"
        summary = f"Give servers[{out.index}] of Gateway {gw.namespace}/{gw.name} a port name of its own."
    else:
        port["number"] = placeholder("a free port that the gateway Service also exposes")
        summary = (f"Move the {port.get('protocol')} server of Gateway {gw.namespace}/{gw.name} to a port of its own "
                   f"(and expose that port on the gateway Service), or change its protocol to "
                   f"{proto.HTTP if proto.is_http(first.protocol if first else '') else 'the protocol already on the port'}.")
    server["port"] = port
    servers[out.index] = server
    return Remediation(summary=summary, objects=[gateway_object(gw, servers)])
