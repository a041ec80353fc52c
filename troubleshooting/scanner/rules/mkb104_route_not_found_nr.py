"""MKB-104 route-not-found-nr: a Gateway host that no VirtualService routes (404 NR at the gateway)."""

from __future__ import annotations

from .. import hosts as _hosts
from ..engine import Rule
from ..findings import Remediation, placeholder
from ..gateways import gateway_workloads, is_http_server, virtualservices_bound_to
from ..snapshot import exported_to

RULE = Rule(
    id="MKB-104",
    slug="route-not-found-nr",
    title="Gateway host with no VirtualService: every request gets 404 NR",
    severity="warning",
    description=(
        "An HTTP or TLS-terminating HTTPS server of a Gateway (that istiod does not skip) declares a host for "
        "which no VirtualService bound to that Gateway and allowed by the server's namespace/host restriction "
        "exists. The gateway has no route for the host and answers every request with 404 and the NR flag."
    ),
)


@RULE
def check(snapshot):
    if snapshot.scanned.get("VirtualService", 0) == 0 and not snapshot.of_kind("VirtualService"):
        return []  # VirtualServices were not collected: cannot tell
    dropped = {o.key for wl in gateway_workloads(snapshot) for o in wl.outcomes if not o.kept}
    findings = []
    for gw in snapshot.of_kind("Gateway"):
        bound = [vs for vs in virtualservices_bound_to(snapshot, gw) if exported_to(vs, gw.namespace)]
        missing = []
        for index, server in enumerate(gw.spec.get("servers") or ()):
            if (gw.key, index) in dropped or not is_http_server(server):
                continue
            for h in server.get("hosts") or ():
                ns, name = _hosts.split_namespaced(h, gw.namespace)
                if not any((ns in ("*", vs.namespace)) and any(_hosts.matches(name, vh) for vh in vs.spec.get("hosts") or ())
                           for vs in bound):
                    missing.append((index, server, h, ns, name))
        for index, server, h, ns, name in missing:
            message = (f"Gateway {gw.namespace}/{gw.name} accepts {h} on port {(server.get('port') or {}).get('number')} "
                       f"but no VirtualService bound to it routes that host: the gateway has no route for it and "
                       f"answers every request with 404 (NR, route_not_found).")
            evidence = {"host": h, "server_index": index, "port": (server.get("port") or {}).get("number"),
                        "virtualservices_bound": [f"{vs.namespace}/{vs.name}" for vs in bound]}
            vs_ns = ns if ns != "*" else gw.namespace
            ref = gw.name if vs_ns == gw.namespace else f"{gw.namespace}/{gw.name}"
            vs_obj = {
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                "metadata": {"name": f"{gw.name}-{name.replace('*', 'wildcard').replace('.', '-')}"[:63].strip("-"),
                             "namespace": vs_ns},
                "spec": {"hosts": [name], "gateways": [ref], "http": [{"route": [{"destination": {
                    "host": placeholder("the Service that serves " + name + ", e.g. app.ns.svc.cluster.local"),
                    "port": {"number": placeholder("its port")}}}]}]},
            }
            findings.append(RULE.finding(
                gw.ref, message, related=[vs.ref for vs in bound], evidence=evidence,
                remediation=Remediation(
                    summary=("Route the host with a VirtualService bound to this Gateway (fill in the destination), or "
                             "remove the host from the Gateway if nothing should be served there."),
                    objects=[vs_obj]),
                discriminator=h))
    return findings
