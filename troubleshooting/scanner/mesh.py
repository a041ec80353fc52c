"""Small mesh semantics shared by several detectors (proxy config, DestinationRules, mTLS)."""

from __future__ import annotations

import yaml

from . import hosts as _hosts
from . import protocol as proto
from .findings import Ref
from .snapshot import KIND_GROUPS, NETWORKING, Obj, Snapshot

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text) -> dict | None:
    """A small YAML/JSON document embedded in an annotation or ConfigMap; None when it is not a map."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    return value if isinstance(value, dict) else None


def truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def workload(snapshot: Snapshot, ref: Ref) -> Obj | None:
    return snapshot.get(ref.kind, ref.namespace, ref.name)


def is_gateway_pod(pod: Obj) -> bool:
    if pod.spec["router"]:
        return True
    if pod.spec["sidecar"] != "container":
        return False
    value = pod.labels.get("istio", "")
    return "gateway" in value


def spans_clusters(snapshot: Snapshot) -> bool:
    """Whether the mesh reaches beyond this cluster: istiod names its cluster, or mesh networks are declared.

    Endpoints in the other clusters are invisible in this cluster's snapshot.
    """
    if any(p.env.get("CLUSTER_ID") not in (None, "", "Kubernetes") for p in snapshot.control_planes):
        return True
    root = snapshot.namespace(snapshot.root_namespace)
    if root is not None and root.labels.get("topology.istio.io/network"):
        return True
    for plane_ns in {p.namespace for p in snapshot.control_planes} or {snapshot.root_namespace}:
        cm = snapshot.get("ConfigMap", plane_ns, "istio")
        networks = load_yaml_text(((cm.spec.get("data") or {}) if cm else {}).get("meshNetworks"))
        if networks and networks.get("networks"):
            return True
    return False


def ports_of(se: Obj) -> list[dict]:
    return [p for p in se.spec.get("ports") or () if isinstance(p, dict)]


def se_port_protocol(port: dict) -> str:
    return proto.parse(port.get("protocol")) if port.get("protocol") else ""


def auto_allocation(snapshot: Snapshot) -> bool:
    """DNS proxying with address auto-allocation on (mesh ``defaultConfig.proxyMetadata``), as IST0134 checks."""
    meta = (snapshot.mesh_config().get("defaultConfig") or {}).get("proxyMetadata") or {}
    if not isinstance(meta, dict):
        return False
    return truthy(meta.get("ISTIO_META_DNS_CAPTURE")) and truthy(meta.get("ISTIO_META_DNS_AUTO_ALLOCATE"))


def se_has_addresses(snapshot: Snapshot, se: Obj) -> bool:
    if se.spec.get("addresses"):
        return True
    if auto_allocation(snapshot):
        return True
    extra = se.extra or {}
    return bool(extra.get("status_addresses"))


# --- VirtualServices ----------------------------------------------------------------------


def route_destinations(vs: Obj, mirrors: bool = True):
    """``(where, destination, weight)`` for every http/tcp/tls route destination (and mirror, weight None)."""
    for section in ("http", "tcp", "tls"):
        for i, route in enumerate(vs.spec.get(section) or ()):
            for j, dest in enumerate(route.get("route") or ()):
                d = dest.get("destination") or {}
                if d:
                    yield f"spec.{section}[{i}].route[{j}]", d, dest.get("weight")
            mirror = route.get("mirror")
            if mirror and mirrors:
                yield f"spec.{section}[{i}].mirror", mirror, None


# --- DestinationRules ---------------------------------------------------------------------


def _port_settings(tp: dict, number) -> dict | None:
    for item in tp.get("portLevelSettings") or ():
        if isinstance(item, dict) and (item.get("port") or {}).get("number") == number:
            return item
    return None


def tcp_keepalive(dr: Obj, number=None):
    """The ``tcpKeepalive`` a DestinationRule sets for a port (port-level first), or None."""
    tp = dr.spec.get("trafficPolicy") or {}
    item = _port_settings(tp, number) if number is not None else None
    for source in (item, tp):
        if not source:
            continue
        keep = ((source.get("connectionPool") or {}).get("tcp") or {}).get("tcpKeepalive")
        if keep is not None:
            return keep
    return None


def tls_settings(dr: Obj, number=None, subset: str | None = None) -> dict | None:
    """The client TLS settings a DestinationRule applies to a port (subset, then port level, then top)."""
    layers = []
    if subset:
        for s in dr.spec.get("subsets") or ():
            if s.get("name") == subset:
                layers.append(s.get("trafficPolicy") or {})
    layers.append(dr.spec.get("trafficPolicy") or {})
    for tp in layers:
        item = _port_settings(tp, number) if number is not None else None
        if item and item.get("tls"):
            return item.get("tls")
        if tp.get("tls"):
            return tp.get("tls")
    return None


def effective_destination_rule(snapshot: Snapshot, host: str, client_namespace: str) -> Obj | None:
    found = snapshot.destination_rules_for(host, client_namespace)
    return found[0] if found else None


def dr_object(dr: Obj, spec: dict) -> dict:
    return {"apiVersion": dr.api_version or "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": dr.metadata(), "spec": spec}


def istio_object(obj: Obj, spec: dict) -> dict:
    return {"apiVersion": obj.api_version or f"{KIND_GROUPS.get(obj.kind, NETWORKING)}/v1", "kind": obj.kind,
            "metadata": obj.metadata(), "spec": spec}


def unique_name(snapshot: Snapshot, kind: str, namespace: str, base: str) -> str:
    name, i = base[:63].rstrip("-"), 2
    while snapshot.get(kind, namespace, name) is not None:
        name = f"{base[:60].rstrip('-')}-{i}"
        i += 1
    return name


# --- PeerAuthentication, RequestAuthentication, AuthorizationPolicy ------------------------


def match_labels(obj: Obj) -> dict:
    """``spec.selector.matchLabels`` of a PeerAuthentication, RequestAuthentication or AuthorizationPolicy."""
    return ((obj.spec.get("selector") or {}).get("matchLabels")) or {}


def _selects(obj: Obj, pod: Obj) -> bool:
    return all(pod.labels.get(k) == v for k, v in match_labels(obj).items())


def policy_pods(snapshot: Snapshot, policy: Obj) -> list[Obj]:
    """The pods a security policy's selector picks: in its namespace, or in every namespace from the root one."""
    namespace = None if policy.namespace == snapshot.root_namespace else policy.namespace
    return snapshot.pods_matching(match_labels(policy), namespace)


def _peer_authentications(snapshot: Snapshot, pod: Obj) -> tuple[Obj | None, list[Obj]]:
    """The workload's own PeerAuthentication (the oldest) and the chain workload > namespace > mesh root."""
    workload_pas = []
    namespace_pa = None
    for pa in snapshot.in_namespace("PeerAuthentication", pod.namespace):
        if match_labels(pa):
            if _selects(pa, pod):
                workload_pas.append(pa)
        elif namespace_pa is None or pa.order_key < namespace_pa.order_key:
            namespace_pa = pa
    mesh_pa = None
    for pa in snapshot.in_namespace("PeerAuthentication", snapshot.root_namespace):
        if not match_labels(pa) and (mesh_pa is None or pa.order_key < mesh_pa.order_key):
            mesh_pa = pa
    workload_pa = min(workload_pas, key=lambda p: p.order_key) if workload_pas else None
    return workload_pa, [p for p in (workload_pa, namespace_pa, mesh_pa) if p is not None]


def peer_authentication_mode(snapshot: Snapshot, pod: Obj, port=None) -> tuple[str, Obj | None]:
    """The effective mTLS mode for a workload port: workload policy > namespace > mesh root; default PERMISSIVE."""
    return _mode_in_chain(*_peer_authentications(snapshot, pod), port)


def _mode_in_chain(workload_pa: Obj | None, chain: list[Obj], port=None) -> tuple[str, Obj | None]:
    for pa in chain:
        if port is not None and pa is workload_pa:
            level = (pa.spec.get("portLevelMtls") or {}).get(str(port)) or (pa.spec.get("portLevelMtls") or {}).get(port)
            if isinstance(level, dict) and level.get("mode") and level.get("mode") != "UNSET":
                return level["mode"], pa
        mode = (pa.spec.get("mtls") or {}).get("mode")
        if mode and mode != "UNSET":
            return mode, pa
    return "PERMISSIVE", None


def mtls_disabled(snapshot: Snapshot, pod: Obj) -> Obj | None:
    """The PeerAuthentication that turns mTLS off on every inbound port of a workload, else None.

    None too when a port-level exception of the workload's own policy accepts mTLS on some port.
    """
    workload_pa, chain = _peer_authentications(snapshot, pod)
    mode, pa = _mode_in_chain(workload_pa, chain)
    if mode != "DISABLE":
        return None
    for port in (workload_pa.spec.get("portLevelMtls") or {}) if workload_pa is not None else ():
        if _mode_in_chain(workload_pa, chain, port)[0] != "DISABLE":
            return None
    return pa


def request_authentication_applies(snapshot: Snapshot, pod: Obj) -> bool:
    """Whether any RequestAuthentication applies to a workload: mesh-, namespace- or workload-wide.

    One with ``targetRef``/``targetRefs`` counts as applying: meshkb does not follow them.
    """
    for namespace in {pod.namespace, snapshot.root_namespace}:
        for ra in snapshot.in_namespace("RequestAuthentication", namespace):
            if ra.spec.get("targetRef") or ra.spec.get("targetRefs") or _selects(ra, pod):
                return True
    return False


def service_host(snapshot: Snapshot, svc: Obj) -> str:
    return f"{svc.name}.{svc.namespace}.svc.{snapshot.domain}"


def host_of(snapshot: Snapshot, host: str, namespace: str) -> str:
    return _hosts.fqdn(host, namespace, snapshot.domain)
