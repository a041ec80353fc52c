"""istiod's Gateway merge, reproduced: which server of which Gateway a gateway proxy really gets.

``pilot/pkg/model/gateway.go`` (``mergeGateways``) walks the Gateways that select a gateway proxy in
the order ``sortConfigByCreationTime`` gives them (oldest ``creationTimestamp`` first, then name,
then namespace) and, server by server:

- a server with a ``tls`` block whose hosts repeat a host already taken on the same (resolved) port
  and bind is skipped whole: ``skipping server on gateway X, duplicate host names: [...]``;
- a second server on a port that already has a plain-text server is merged only when both are HTTP
  (``canMergeProtocols``), otherwise skipped: ``conflict with existing server``;
- HTTPS servers on a shared port need distinct RDS route names (``non unique port name``);
- a plain-text server on a port already used by TLS servers (same bind) is skipped
  (``TLS server without TLS options``).

Hosts are compared as plain strings after ``sanitizeServerHostNamespace`` (``./h`` -> ``ns/h``,
``*/h`` -> ``h``), exactly like ``CheckDuplicates``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import protocol as proto
from .findings import Ref, Remediation
from .snapshot import Obj, Snapshot

PASSTHROUGH_MODES = ("PASSTHROUGH", "AUTO_PASSTHROUGH")

DUPLICATE_HOSTS = "duplicate-hosts"
PROTOCOL_CONFLICT = "protocol-conflict"
NO_ROUTE_NAME = "no-route-name"
HTTPS_PORT_NAME = "https-port-name"
TLS_WITHOUT_OPTIONS = "tls-without-options"


@dataclass
class ServerOutcome:
    gateway: Obj
    index: int
    server: dict
    port: int
    protocol: str
    bind: str
    hosts: list
    declared_port: int = 0
    kept: bool = True
    reason: str = ""
    duplicates: list = field(default_factory=list)
    winners: list = field(default_factory=list)  # [(Obj, index)] whose servers made this one lose

    @property
    def key(self) -> tuple:
        return (self.gateway.key, self.index)

    @property
    def port_text(self) -> str:
        """``443`` or ``443 (listener 8443)`` when the gateway Service maps the port."""
        if self.declared_port != self.port:
            return f"{self.declared_port} (listener port {self.port})"
        return str(self.port)


@dataclass
class GatewayWorkload:
    """One gateway proxy deployment (or, without pods, the gateways sharing a selector)."""

    namespace: str
    labels: dict
    pods: list
    gateways: list
    outcomes: list = field(default_factory=list)

    @property
    def description(self) -> str:
        sel = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        if self.pods:
            names = sorted({p.name for p in self.pods})
            more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
            return f"pods {', '.join(self.pods[0].namespace + '/' + n for n in names[:3])}{more}"
        return f"gateway workload with labels {sel} (no pod of it in the snapshot)"

    @property
    def pod_refs(self) -> list:
        return [p.ref for p in self.pods[:5]]


def server_tls(server: dict):
    tls = server.get("tls")
    return tls if "tls" in server and tls is not None else None


def is_http_server(server: dict) -> bool:
    p = proto.parse((server.get("port") or {}).get("protocol"))
    if proto.is_http(p):
        return True
    tls = server_tls(server)
    return p == proto.HTTPS and tls is not None and tls.get("mode") not in PASSTHROUGH_MODES


def is_tls_server(server: dict) -> bool:
    return server_tls(server) is not None and not proto.is_http(proto.parse((server.get("port") or {}).get("protocol")))


def route_name(server: dict, port: int, gateway: Obj) -> str:
    p = proto.parse((server.get("port") or {}).get("protocol"))
    bind = server.get("bind") or ""
    suffix = f".{bind}" if bind else ""
    if proto.is_http(p):
        return f"http.{port}{suffix}"
    tls = server_tls(server)
    if p == proto.HTTPS and not (tls is not None and tls.get("mode") in PASSTHROUGH_MODES):
        number = (server.get("port") or {}).get("number")
        return f"https.{number}.{(server.get('port') or {}).get('name', '')}.{gateway.name}.{gateway.namespace}{suffix}"
    return ""


def sanitize_hosts(hosts, namespace: str) -> list[str]:
    out = []
    for h in hosts or ():
        if "/" in h:
            ns, _, name = h.partition("/")
            if ns == ".":
                out.append(f"{namespace}/{name}")
            elif ns == "*":
                if name == "*":
                    return ["*"]
                out.append(name)
            else:
                out.append(h)
        else:
            out.append(h)
    return out


def _can_merge(current: str, new: str) -> bool:
    return (proto.is_http(current) or current == new) and proto.is_http(new)


def _scope_to_namespace(snapshot: Snapshot) -> bool:
    return any(p.env.get("PILOT_SCOPE_GATEWAY_TO_NAMESPACE", "").lower() == "true" for p in snapshot.control_planes)


def _selector(gw: Obj) -> dict:
    sel = gw.spec.get("selector") or {}
    return {str(k): str(v) for k, v in sel.items()}


def gateway_workloads(snapshot: Snapshot) -> list[GatewayWorkload]:
    """Every gateway workload with its Gateways (in istiod's order) and the merge outcome."""
    cached = getattr(snapshot, "_gateway_workloads", None)
    if cached is not None:
        return cached
    gateways = sorted(snapshot.of_kind("Gateway"), key=lambda g: g.order_key)
    scoped = _scope_to_namespace(snapshot)
    groups: dict[tuple, list] = {}
    unmatched: dict[tuple, dict] = {}
    for gw in gateways:
        sel = _selector(gw)
        if sel:
            pods = snapshot.pods_matching(sel, gw.namespace if scoped else None)
        else:
            pods = [p for p in snapshot.of_kind("Pod") if p.spec["router"] and (not scoped or p.namespace == gw.namespace)]
        if pods:
            for pod in pods:
                key = (pod.namespace, frozenset(pod.labels.items()))
                groups.setdefault(key, []).append(pod)
        elif sel:
            unmatched[(gw.namespace if scoped else "", frozenset(sel.items()))] = sel
    workloads = []
    for (ns, labels), pods in groups.items():
        label_map = dict(labels)
        applicable = [g for g in gateways if _applies(g, label_map, ns, scoped)]
        workloads.append(GatewayWorkload(ns, label_map, pods, applicable))
    for (ns, labels), sel in unmatched.items():
        applicable = [g for g in gateways if _applies(g, sel, ns, scoped) and _selector(g)]
        workloads.append(GatewayWorkload(ns, sel, [], applicable))
    for wl in workloads:
        wl.outcomes = _merge(snapshot, wl)
    snapshot._gateway_workloads = workloads
    return workloads


def _applies(gw: Obj, labels: dict, namespace: str, scoped: bool) -> bool:
    if scoped and namespace and gw.namespace != namespace:
        return False
    return all(labels.get(k) == v for k, v in _selector(gw).items())


def _port_map(snapshot: Snapshot, wl: GatewayWorkload) -> dict[int, int]:
    """Gateway port -> port the proxy listens on, through the Services in front of its pods."""
    mapping: dict[int, int] = {}
    if not wl.pods:
        return mapping
    services = sorted(snapshot.services_selecting(wl.pods[0]), key=lambda s: s.name)
    for svc in services:
        if svc.labels.get("experimental.istio.io/disable-gateway-port-translation") is not None:
            continue
        for p in svc.spec["ports"]:
            target = p.get("targetPort")
            if p["port"] not in mapping:
                mapping[p["port"]] = target if type(target) is int else p["port"]
    return mapping


def _merge(snapshot: Snapshot, wl: GatewayWorkload) -> list[ServerOutcome]:
    port_map = _port_map(snapshot, wl)
    outcomes = []
    tls_hosts: dict[int, dict] = {}
    gateway_ports: set[int] = set()
    plaintext: dict[int, ServerOutcome] = {}
    route_names: dict[str, ServerOutcome] = {}
    nonplain_binds: dict[int, set] = {}
    for gw in wl.gateways:
        for index, server in enumerate(gw.spec.get("servers") or ()):
            port = server.get("port")
            if not port:
                continue
            number = port_map.get(port["number"], port["number"]) if type(port.get("number")) is int else port.get("number")
            out = ServerOutcome(gw, index, server, number, proto.parse(port.get("protocol")), server.get("bind") or "",
                                sanitize_hosts(server.get("hosts"), gw.namespace), port.get("number"))
            outcomes.append(out)
            tls = server_tls(server)
            if tls is not None:
                known = tls_hosts.setdefault(number, {})
                dups = [h for h in out.hosts if h in known and known[h][0] == out.bind]
                if dups:
                    out.kept, out.reason, out.duplicates = False, DUPLICATE_HOSTS, dups
                    winners = []
                    for h in dups:
                        if known[h][1] not in winners:
                            winners.append(known[h][1])
                    out.winners = winners
                    continue
                for h in out.hosts:
                    known[h] = (out.bind, out)
            rname = route_name(server, number, gw)
            if number in gateway_ports:
                current = plaintext.get(number)
                if current is not None:
                    if not _can_merge(current.protocol, out.protocol) and current.bind == out.bind:
                        out.kept, out.reason, out.winners = False, PROTOCOL_CONFLICT, [current]
                        continue
                    if not rname and current.bind == out.bind:
                        out.kept, out.reason, out.winners = False, NO_ROUTE_NAME, [current]
                        continue
                else:
                    if is_http_server(server):
                        if not rname:
                            out.kept, out.reason = False, NO_ROUTE_NAME
                            continue
                        if rname in route_names:
                            out.kept, out.reason, out.winners = False, HTTPS_PORT_NAME, [route_names[rname]]
                            continue
                        route_names[rname] = out
                    binds = nonplain_binds.get(number)
                    if binds is None:
                        nonplain_binds[number] = {out.bind}
                        new_bind = True
                    else:
                        new_bind = out.bind not in binds
                        binds.add(out.bind)
                    if tls is None and not new_bind:
                        firsts = [o for o in outcomes if o.kept and o.port == number and o is not out]
                        out.kept, out.reason, out.winners = False, TLS_WITHOUT_OPTIONS, firsts[:1]
                        continue
            else:
                gateway_ports.add(number)
                if not is_tls_server(server):
                    plaintext[number] = out
                if is_http_server(server):
                    route_names[rname] = out
    return outcomes


def dropped_servers(snapshot: Snapshot, reasons) -> dict[tuple, list]:
    """(gateway key, server index) -> [(workload, outcome)] for servers istiod skips for ``reasons``."""
    found: dict[tuple, list] = {}
    for wl in gateway_workloads(snapshot):
        for out in wl.outcomes:
            if not out.kept and out.reason in reasons:
                found.setdefault(out.key, []).append((wl, out))
    return found


# --- remediation helpers ------------------------------------------------------------------


def gateway_object(gw: Obj, servers: list) -> dict:
    spec = dict(gw.spec)
    spec["servers"] = servers
    return {
        "apiVersion": gw.api_version or "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": gw.metadata(),
        "spec": spec,
    }


def gateway_reference(gw: Obj, from_namespace: str) -> str:
    return gw.name if gw.namespace == from_namespace else f"{gw.namespace}/{gw.name}"


def virtualservices_bound_to(snapshot: Snapshot, gw: Obj) -> list[Obj]:
    index = getattr(snapshot, "_vs_by_gateway", None)
    if index is None:
        index = {}
        for vs in snapshot.of_kind("VirtualService"):
            for ref in set(vs.spec.get("gateways") or ()):
                index.setdefault(resolve_gateway_ref(ref, vs.namespace), []).append(vs)
        snapshot._vs_by_gateway = index
    return list(index.get((gw.namespace, gw.name), ()))


def resolve_gateway_ref(ref: str, namespace: str) -> tuple[str, str]:
    if "/" in ref:
        ns, _, name = ref.partition("/")
        return ns, name
    if "." in ref:  # legacy <name>.<namespace>[.svc.cluster.local] form
        name, _, rest = ref.partition(".")
        return rest.split(".")[0], name
    return namespace, ref


def merge_servers_remediation(snapshot: Snapshot, keep: ServerOutcome, absorb: list[ServerOutcome],
                              summary: str) -> Remediation:
    """Move the hosts of ``absorb`` servers into ``keep``'s server; drop the absorbed servers.

    Gateways left without servers are deleted; VirtualServices bound to a changed Gateway for a
    moved host are rebound to ``keep``'s Gateway so that no route is lost.
    """
    by_gateway: dict[tuple, dict] = {}

    def servers_of(gw: Obj) -> dict:
        entry = by_gateway.get(gw.key)
        if entry is None:
            entry = by_gateway[gw.key] = {"gw": gw, "servers": [dict(s) for s in gw.spec.get("servers") or ()],
                                          "removed": set()}
        return entry

    target = servers_of(keep.gateway)
    kept_server = target["servers"][keep.index]
    hosts = list(kept_server.get("hosts") or [])
    present = set(sanitize_hosts(hosts, keep.gateway.namespace))
    moved_hosts = []
    for out in absorb:
        entry = servers_of(out.gateway)
        entry["removed"].add(out.index)
        # out.hosts are sanitised (./h -> ns/h, */h -> h): they keep their namespace restriction when moved
        for h in out.hosts:
            if h not in present:
                present.add(h)
                hosts.append(h)
            moved_hosts.append(h.split("/", 1)[1] if "/" in h else h)
    kept_server["hosts"] = hosts
    objects, deletes = [], []
    deleted_keys = set()
    for key, entry in by_gateway.items():
        servers = [s for i, s in enumerate(entry["servers"]) if i not in entry["removed"]]
        if servers:
            objects.append(gateway_object(entry["gw"], servers))
        else:
            deletes.append(entry["gw"].ref)
            deleted_keys.add(key)
    # Rebind VirtualServices of absorbed Gateways that route a moved host.
    keep_gw = keep.gateway
    for out in absorb:
        if out.gateway.key == keep_gw.key:
            continue
        for vs in virtualservices_bound_to(snapshot, out.gateway):
            vs_hosts = vs.spec.get("hosts") or []
            if not any(_host_overlap(h, moved_hosts) for h in vs_hosts):
                continue
            refs = list(vs.spec.get("gateways") or [])
            new_ref = gateway_reference(keep_gw, vs.namespace)
            if out.gateway.key in deleted_keys:
                refs = [new_ref if resolve_gateway_ref(r, vs.namespace) == (out.gateway.namespace, out.gateway.name)
                        else r for r in refs]
            elif new_ref not in refs:
                refs.append(new_ref)
            deduped = []
            for r in refs:
                if r not in deduped:
                    deduped.append(r)
            spec = dict(vs.spec)
            spec["gateways"] = deduped
            objects.append({"apiVersion": vs.api_version or "networking.istio.io/v1", "kind": "VirtualService",
                            "metadata": vs.metadata(), "spec": spec})
    return Remediation(summary=summary, objects=objects, deletes=deletes)


def _host_overlap(host: str, others) -> bool:
    from .hosts import matches

    return any(matches(host, o) for o in others)


def workload_refs(items) -> list[Ref]:
    refs = []
    for wl, _ in items:
        refs.extend(wl.pod_refs)
    return refs
