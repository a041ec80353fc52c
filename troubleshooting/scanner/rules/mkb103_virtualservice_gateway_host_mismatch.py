"""MKB-103 virtualservice-gateway-host-mismatch: a VirtualService bound to a missing Gateway or foreign hosts."""

from __future__ import annotations

import copy

from .. import hosts as _hosts
from ..engine import Rule
from ..findings import Remediation, placeholder
from ..gateways import gateway_object, is_http_server, resolve_gateway_ref
from ..mesh import istio_object

RULE = Rule(
    id="MKB-103",
    slug="virtualservice-gateway-host-mismatch",
    title="VirtualService bound to a Gateway that does not exist or does not declare its hosts",
    severity="warning",
    description=(
        "A VirtualService lists a Gateway in spec.gateways that is not in the cluster (its routes are never "
        "applied, IST0101), or none of whose servers declares the VirtualService's host, taking the servers' "
        "namespace/host restrictions into account (IST0132: reported only when no host of the VirtualService is "
        "declared by the Gateway). Requests for those hosts get 404 NR at the gateway."
    ),
)


def _server_allows(server_host: str, gw_namespace: str, vs_namespace: str, vs_host: str) -> bool:
    ns, name = _hosts.split_namespaced(server_host, gw_namespace)
    if ns not in ("*", vs_namespace):
        return False
    return _hosts.matches(name, vs_host)


def _gateway_hosts_for(gw, vs_namespace):
    for server in gw.spec.get("servers") or ():
        for h in server.get("hosts") or ():
            yield h


@RULE
def check(snapshot):
    findings = []
    gateways_by_name: dict[str, list] = {}
    for gw in snapshot.of_kind("Gateway"):
        gateways_by_name.setdefault(gw.name, []).append(gw)
    for vs in snapshot.of_kind("VirtualService"):
        vs_hosts = vs.spec.get("hosts") or []
        for ref in vs.spec.get("gateways") or ():
            if ref == "mesh":
                continue
            ns, name = resolve_gateway_ref(ref, vs.namespace)
            gw = snapshot.get("Gateway", ns, name)
            if gw is None:
                if snapshot.scanned.get("Gateway", 0) == 0 and not gateways_by_name:
                    continue  # no Gateways were collected at all: cannot tell
                candidates = [g for g in gateways_by_name.get(name, ()) if g.namespace != ns]
                message = (f"VirtualService {vs.namespace}/{vs.name} is bound to Gateway {ns}/{name} ({ref!r}), which "
                           f"does not exist; its routes for {', '.join(vs_hosts) or 'its hosts'} are never applied "
                           f"to any gateway, so requests get 404 NR.")
                if candidates:
                    message += (f" A Gateway of that name exists in namespace "
                                f"{', '.join(sorted(g.namespace for g in candidates))}: a namespace-less reference "
                                f"means the VirtualService's own namespace.")
                findings.append(RULE.finding(
                    vs.ref, message, related=[g.ref for g in candidates], severity="error",
                    evidence={"gateway_ref": ref, "resolved_to": f"{ns}/{name}", "hosts": vs_hosts},
                    remediation=_missing_remediation(vs, ref, candidates), discriminator=f"missing:{ns}/{name}"))
                continue
            unmatched = [h for h in vs_hosts if not any(
                _server_allows(sh, gw.namespace, vs.namespace, h) for sh in _gateway_hosts_for(gw, vs.namespace))]
            if len(unmatched) < len(vs_hosts):
                continue  # like IST0132: one host in common is enough (the others may be served elsewhere)
            declared = sorted({h for h in _gateway_hosts_for(gw, vs.namespace)})
            message = (f"VirtualService {vs.namespace}/{vs.name} is bound to Gateway {gw.namespace}/{gw.name}, but no "
                       f"server of that Gateway declares {', '.join(unmatched)} for namespace {vs.namespace} "
                       f"(it declares {', '.join(declared) or 'no hosts at all'}); istiod ignores the VirtualService for "
                       f"those hosts on the gateway, so requests for them get 404 NR.")
            findings.append(RULE.finding(
                vs.ref, message, related=[gw.ref],
                evidence={"gateway": f"{gw.namespace}/{gw.name}", "virtualservice_hosts": vs_hosts,
                          "hosts_not_in_gateway": unmatched, "gateway_hosts": declared},
                remediation=_mismatch_remediation(gw, vs, unmatched), discriminator=f"hosts:{gw.namespace}/{gw.name}"))
    return findings


def _missing_remediation(vs, ref, candidates) -> Remediation:
    spec = copy.deepcopy(vs.spec)
    if len(candidates) == 1:
        target = f"{candidates[0].namespace}/{candidates[0].name}"
        spec["gateways"] = [target if g == ref else g for g in spec.get("gateways") or []]
        return Remediation(summary=f"Reference the existing Gateway with its namespace: {target}.",
                           objects=[istio_object(vs, spec)])
    spec["gateways"] = [placeholder("namespace/name of the Gateway that serves these hosts") if g == ref else g
                        for g in spec.get("gateways") or []]
    return Remediation(summary=(f"Point spec.gateways at the Gateway that serves {', '.join(vs.spec.get('hosts') or [])}"
                                f" (namespace/name), or create the Gateway {ref}."),
                       objects=[istio_object(vs, spec)])


def _mismatch_remediation(gw, vs, unmatched) -> Remediation:
    servers = [dict(s) for s in gw.spec.get("servers") or ()]
    target = next((i for i, s in enumerate(servers) if is_http_server(s)), None)
    if target is None:
        return Remediation(summary=(f"Gateway {gw.namespace}/{gw.name} has no HTTP/HTTPS server to add "
                                    f"{', '.join(unmatched)} to: add a server for them, or bind the VirtualService to a "
                                    f"Gateway that serves them."),
                           objects=[gateway_object(gw, servers + [{"port": {"number": placeholder("port"), "name": "http",
                                                                            "protocol": "HTTP"},
                                                                   "hosts": list(unmatched)}])])
    server = dict(servers[target])
    prefix = "" if vs.namespace == gw.namespace else f"{vs.namespace}/"
    server["hosts"] = list(server.get("hosts") or []) + [prefix + h for h in unmatched]
    servers[target] = server
    tls_note = (" The server terminates TLS: its certificate must cover the new host."
                if (server.get("port") or {}).get("protocol", "").upper() == "HTTPS" else "")
    return Remediation(summary=(f"Declare {', '.join(unmatched)} on servers[{target}] of Gateway {gw.namespace}/{gw.name} "
                                f"(or change the VirtualService's hosts to ones the Gateway declares).{tls_note}"),
                       objects=[gateway_object(gw, servers)])
