"""MKB-003 gateway-duplicate-tls-host: istiod drops a whole TLS server for one repeated host."""

from __future__ import annotations

from ..engine import Rule
from ..findings import Remediation
from ..gateways import (DUPLICATE_HOSTS, dropped_servers, gateway_object, gateway_workloads,
                        merge_servers_remediation)

RULE = Rule(
    id="MKB-003",
    slug="gateway-duplicate-tls-host",
    title="Two Gateways declare the same host on one TLS port: istiod drops a whole server",
    severity="error",
    description=(
        "Gateways bound to the same gateway workload (same selector, or selectors matching the same pods) "
        "with TLS servers (HTTPS/TLS) on the same port that declare the same host. istiod processes Gateways "
        "oldest first (creationTimestamp, then name) and skips the later server whole, so every host on it "
        "stops working, also hosts that were not duplicated. Plain HTTP servers sharing a host are merged "
        "and are not reported."
    ),
)


def same_tls(a: dict, b: dict) -> bool:
    a, b = a or {}, b or {}
    if (a.get("mode") or "SIMPLE") != (b.get("mode") or "SIMPLE"):
        return False
    if a.get("credentialName") or b.get("credentialName"):
        return a.get("credentialName") == b.get("credentialName")
    return (a.get("serverCertificate"), a.get("privateKey")) == (b.get("serverCertificate"), b.get("privateKey"))


@RULE
def check(snapshot):
    findings = []
    dropped = dropped_servers(snapshot, {DUPLICATE_HOSTS})
    for (gw_key, index), items in dropped.items():
        wl, out = items[0]
        gw = out.gateway
        served = _served_hosts(snapshot, out.port)
        lost = [h for h in out.hosts if h not in served]
        winners = []
        for _, o in items:
            for w in o.winners:
                if w.gateway.ref not in [x.gateway.ref for x in winners]:
                    winners.append(w)
        winner_text = ", ".join(f"Gateway {w.gateway.namespace}/{w.gateway.name}" for w in winners)
        proto_name = (out.server.get("port") or {}).get("protocol") or "TLS"
        message = (
            f"istiod skips the {proto_name} server on port {out.port_text} of Gateway {gw.namespace}/{gw.name}: "
            f"{_hosts_text(out.duplicates)} {'is' if len(out.duplicates) == 1 else 'are'} already declared on that "
            f"port by {winner_text}, which istiod processes first (older creationTimestamp, then name). "
            f"Every host of the skipped server is affected"
        )
        if lost:
            message += f"; unreachable now: {_hosts_text(lost)}"
            not_dup = [h for h in lost if h not in out.duplicates]
            if not_dup:
                message += f" ({_hosts_text(not_dup)} {'was' if len(not_dup) == 1 else 'were'} never duplicated)"
        dup_elsewhere = [h for h in out.duplicates if h in served]
        if dup_elsewhere:
            message += f"; served by the other Gateway's server instead: {_hosts_text(dup_elsewhere)}"
        message += "."
        evidence = {
            "port": out.declared_port,
            "listener_port": out.port,
            "protocol": proto_name,
            "server_index": index,
            "server_hosts": out.hosts,
            "duplicate_hosts": out.duplicates,
            "unreachable_hosts": lost,
            "kept_servers": [f"Gateway {w.gateway.namespace}/{w.gateway.name} servers[{w.index}]" for w in winners],
            "merge_order": [
                {"gateway": f"{g.namespace}/{g.name}", "creationTimestamp": g.created or None}
                for g in wl.gateways if g in [w.gateway for w in winners] + [gw]
            ],
            "gateway_workloads": sorted({w.description for w, _ in items}),
            "istiod_log": f"skipping server on gateway {gw.namespace}/{gw.name}, duplicate host names: "
                          f"[{' '.join(out.duplicates)}]",
        }
        related = [w.gateway.ref for w in winners]
        for w, _ in items:
            related.extend(w.pod_refs)
        findings.append(
            RULE.finding(gw.ref, message, related=related, evidence=evidence,
                         remediation=_remediation(snapshot, out, winners), discriminator=f"{out.declared_port}/{index}")
        )
    return findings


def _served_hosts(snapshot, port) -> set:
    served = set()
    for wl in gateway_workloads(snapshot):
        for o in wl.outcomes:
            if o.kept and o.port == port:
                served.update(o.hosts)
    return served


def _hosts_text(hosts) -> str:
    return ", ".join(hosts)


def _remediation(snapshot, loser, winners) -> Remediation:
    gw = loser.gateway
    if len(winners) == 1 and same_tls(winners[0].server.get("tls"), loser.server.get("tls")):
        winner = winners[0]
        return merge_servers_remediation(
            snapshot, winner, [loser],
            summary=(
                f"Both servers use the same certificate, so serve all their hosts from one server: add "
                f"{', '.join(h for h in loser.hosts if h not in winner.hosts) or 'nothing'} to servers[{winner.index}] "
                f"of Gateway {winner.gateway.namespace}/{winner.gateway.name}, remove servers[{loser.index}] from "
                f"Gateway {gw.namespace}/{gw.name} (deleting it if nothing is left) and point the VirtualServices "
                f"bound to it at the kept Gateway. One server per certificate also avoids HTTP/2 connection-reuse "
                f"404s (gateway-shared-certificate-404)."
            ),
        )
    servers = [dict(s) for s in gw.spec.get("servers") or ()]
    server = dict(servers[loser.index])
    remaining = [h for h in server.get("hosts") or () if _plain(h) not in loser.duplicates and h not in loser.duplicates]
    if remaining:
        server["hosts"] = remaining
        servers[loser.index] = server
        summary = (f"Remove {', '.join(loser.duplicates)} from servers[{loser.index}] of Gateway "
                   f"{gw.namespace}/{gw.name}: the host stays served by the older Gateway, and istiod stops "
                   f"skipping this server, so {', '.join(remaining)} work again.")
    else:
        del servers[loser.index]
        summary = (f"Every host of servers[{loser.index}] of Gateway {gw.namespace}/{gw.name} is already served by "
                   f"an older Gateway: remove the server.")
    if servers:
        return Remediation(summary=summary, objects=[gateway_object(gw, servers)])
    return Remediation(summary=summary + " Nothing is left in the Gateway, so delete it.", deletes=[gw.ref])


def _plain(host: str) -> str:
    return host.split("/", 1)[1] if "/" in host else host
