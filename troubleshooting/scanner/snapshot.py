"""A read-only, in-memory index of the cluster objects the detectors need.

Objects are slimmed right after parsing (``SnapshotBuilder.add``): only the fields a detector reads
are kept, so a snapshot of 100,000 objects stays small and fast to index. Indexes (by namespace,
label, host, port) are built lazily, the first time a detector asks for them, and every lookup is a
dictionary access: no detector needs a pass that is quadratic in the number of objects.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import yaml

from troubleshooting.versions import IstioVersion

from . import hosts as _hosts
from .findings import Ref

MESHKB_IGNORE = "meshkb.io/ignore"

# (API group, kind) -> short name used everywhere in meshkb. Istio kinds accept every served
# version (v1, v1beta1, v1alpha3); the group is what tells an Istio Gateway from a Gateway API one.
CORE, APPS = "", "apps"
NETWORKING, SECURITY = "networking.istio.io", "security.istio.io"
KNOWN_KINDS = {
    (CORE, "Namespace"),
    (CORE, "Pod"),
    (CORE, "Service"),
    (CORE, "ConfigMap"),
    (APPS, "Deployment"),
    (APPS, "ReplicaSet"),
    (APPS, "StatefulSet"),
    (APPS, "DaemonSet"),
    (NETWORKING, "Gateway"),
    (NETWORKING, "VirtualService"),
    (NETWORKING, "DestinationRule"),
    (NETWORKING, "ServiceEntry"),
    (NETWORKING, "Sidecar"),
    (NETWORKING, "EnvoyFilter"),
    (SECURITY, "PeerAuthentication"),
    (SECURITY, "AuthorizationPolicy"),
    (SECURITY, "RequestAuthentication"),
}
KIND_GROUPS = {kind: group for group, kind in KNOWN_KINDS}
CLUSTER_SCOPED = {"Namespace"}
# Old manifests still say extensions/v1beta1 or apps/v1beta2 for workloads.
_GROUP_ALIASES = {"extensions": APPS}

# ConfigMaps worth keeping: the mesh config of each revision, the root certificate, the injector.
_CONFIGMAP_PREFIX = "istio"

# Namespaces istiod never injects and Istio's analyzers skip.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})


class BadObject(ValueError):
    """An object with a missing field or a field of the wrong type; counted as a warning."""


@dataclass(eq=False, slots=True)
class Obj:
    """One slimmed Kubernetes object."""

    kind: str
    namespace: str
    name: str
    labels: dict
    annotations: dict
    created: str
    owner: tuple | None
    spec: dict
    origin: str = ""
    api_version: str = ""
    extra: dict | None = None
    line: int = 0  # where the object starts in its file (1-based), 0 when unknown

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def ref(self) -> Ref:
        return Ref(self.kind, self.namespace, self.name)

    @property
    def order_key(self) -> tuple:
        """istiod's processing order: oldest creationTimestamp first, then name, then namespace."""
        return (self.created or "", self.name, self.namespace)

    def metadata(self) -> dict:
        """Metadata for a remediation object: name, namespace, labels and the Istio annotations kept."""
        meta = {"name": self.name}
        if self.namespace:
            meta["namespace"] = self.namespace
        if self.labels:
            meta["labels"] = dict(self.labels)
        if self.annotations:
            meta["annotations"] = dict(self.annotations)
        return meta

    def __repr__(self) -> str:
        return f"<{self.kind} {self.namespace}/{self.name}>"


@dataclass
class ControlPlane:
    """An istiod Deployment: its revision, version (from the image tag) and literal env flags."""

    namespace: str
    name: str
    revision: str
    image: str
    version: IstioVersion | None
    env: dict = field(default_factory=dict)

    @property
    def ref(self) -> Ref:
        return Ref("Deployment", self.namespace, self.name)


def _label_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _clean_map(value, what: str) -> dict:
    """A label/selector map with string keys and values; YAML ints and bools are stringified."""
    if value is None:
        return {}
    if type(value) is not dict:
        raise BadObject(f"{what} is not a map")
    for k, v in value.items():
        if type(k) is not str or type(v) is not str:
            return {_label_text(k): _label_text(v) for k, v in value.items()}
    return value


def _timestamp(value) -> str:
    if value is None or type(value) is str:
        return value or ""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, _dt.date):
        return value.strftime("%Y-%m-%dT00:00:00Z")
    raise BadObject("metadata.creationTimestamp is not a timestamp")


def parse_time(value) -> _dt.datetime | None:
    """An RFC 3339 timestamp from the API (``2021-11-29T06:59:26Z``) as an aware datetime."""
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _istio_annotations(value) -> dict:
    if not value:
        return {}
    if type(value) is not dict:
        raise BadObject("metadata.annotations is not a map")
    return {
        k: v if type(v) is str else _label_text(v)
        for k, v in value.items()
        if type(k) is str and ("istio.io" in k or k.startswith("meshkb.io/"))
    }


def _as_list(value, what: str) -> list:
    if value is None:
        return []
    if type(value) is not list:
        raise BadObject(f"{what} is not a list")
    return value


def _as_dict(value, what: str) -> dict:
    if value is None:
        return {}
    if type(value) is not dict:
        raise BadObject(f"{what} is not a map")
    return value


def _str_list(value, what: str) -> list:
    items = _as_list(value, what)
    for item in items:
        if type(item) is not str:
            raise BadObject(f"{what} must be a list of strings")
    return items


def _port_number(value, what: str) -> int:
    if type(value) is int and 0 <= value <= 65535:
        return value
    if type(value) is str and value.isdigit() and int(value) <= 65535:
        return int(value)
    raise BadObject(f"{what} is not a port number")


# --- per-kind slimming ---------------------------------------------------------------------


def _slim_pod(doc: dict) -> dict:
    spec = doc.get("spec")
    spec = spec if type(spec) is dict else {}
    names = []
    sidecar = None
    hold_hook = False
    router = False
    proxy_image = ""
    for c in _as_list(spec.get("containers"), "spec.containers"):
        if type(c) is not dict:
            raise BadObject("spec.containers must hold objects")
        n = c.get("name")
        names.append(n)
        if n == "istio-proxy":
            sidecar = "container"
            proxy_image = c.get("image") or ""
            args = c.get("args")
            if type(args) is list and "router" in args[:3]:
                router = True
            hook = c.get("lifecycle")
            if type(hook) is dict:
                cmd = ((hook.get("postStart") or {}).get("exec") or {}).get("command")
                if type(cmd) is list and "wait" in cmd and any("pilot-agent" in str(x) for x in cmd):
                    hold_hook = True
    inits = spec.get("initContainers")
    if inits:
        for c in _as_list(inits, "spec.initContainers"):
            if type(c) is dict and c.get("name") == "istio-proxy" and c.get("restartPolicy") == "Always":
                sidecar = "native"
                proxy_image = c.get("image") or ""
    status = doc.get("status")
    status = status if type(status) is dict else {}
    statuses = status.get("containerStatuses")
    init_statuses = status.get("initContainerStatuses")
    return {
        "containers": names,
        "sidecar": sidecar,
        "hold_hook": hold_hook,
        "router": router,
        "proxy_image": proxy_image,
        "host_network": spec.get("hostNetwork") is True,
        "phase": status.get("phase") or "",
        "start_time": status.get("startTime") or "",
        "statuses": statuses if type(statuses) is list else [],
        "init_statuses": init_statuses if type(init_statuses) is list else [],
    }


def _slim_service(doc: dict) -> dict:
    spec = _as_dict(doc.get("spec"), "spec")
    ports = []
    for i, p in enumerate(_as_list(spec.get("ports"), "spec.ports")):
        if type(p) is not dict:
            raise BadObject(f"spec.ports[{i}] is not an object")
        number = _port_number(p.get("port"), f"spec.ports[{i}].port")
        name = p.get("name") or ""
        if type(name) is not str:
            raise BadObject(f"spec.ports[{i}].name is not a string")
        ports.append(
            {
                "name": name,
                "port": number,
                "targetPort": p.get("targetPort", number),
                "protocol": p.get("protocol") or "TCP",
                "appProtocol": p.get("appProtocol") or "",
            }
        )
    selector = spec.get("selector")
    return {
        "type": spec.get("type") or "ClusterIP",
        "selector": _clean_map(selector, "spec.selector") if selector is not None else None,
        "ports": ports,
        "clusterIP": spec.get("clusterIP") or "",
        "externalName": spec.get("externalName") or "",
        "publish_not_ready": spec.get("publishNotReadyAddresses") is True,
    }


def _slim_workload(doc: dict) -> dict:
    spec = _as_dict(doc.get("spec"), "spec")
    template = _as_dict(spec.get("template"), "spec.template")
    tmeta = _as_dict(template.get("metadata"), "spec.template.metadata")
    tspec = _as_dict(template.get("spec"), "spec.template.spec")
    selector = _as_dict(spec.get("selector"), "spec.selector")
    status = doc.get("status")
    status = status if type(status) is dict else {}
    containers = []
    for c in _as_list(tspec.get("containers"), "spec.template.spec.containers"):
        if type(c) is dict:
            containers.append(c)
    return {
        "replicas": spec.get("replicas"),
        "selector": _clean_map(selector.get("matchLabels"), "spec.selector.matchLabels"),
        "template_labels": _clean_map(tmeta.get("labels"), "spec.template.metadata.labels"),
        "template_annotations": _istio_annotations(tmeta.get("annotations")),
        # env is kept for istiod's discovery container only (its flags); other workloads need names and images
        "containers": [
            {"name": c.get("name"), "image": c.get("image") or "",
             "env": c.get("env") if c.get("name") == "discovery" or i == 0 else None}
            for i, c in enumerate(containers)
        ],
        "ready_replicas": status.get("readyReplicas") or 0,
        "available_replicas": status.get("availableReplicas") or 0,
        "conditions": status.get("conditions") if type(status.get("conditions")) is list else [],
    }


def _slim_configmap(doc: dict, name: str) -> dict:
    if not name.startswith(_CONFIGMAP_PREFIX):
        return {}
    data = doc.get("data")
    return {"data": data} if type(data) is dict else {}


def _slim_istio(doc: dict, kind: str) -> dict:
    spec = _as_dict(doc.get("spec"), "spec")
    _VALIDATORS[kind](spec)
    return spec


def _validate_gateway(spec: dict) -> None:
    _clean_map(spec.get("selector"), "spec.selector")
    for i, s in enumerate(_as_list(spec.get("servers"), "spec.servers")):
        if type(s) is not dict:
            raise BadObject(f"spec.servers[{i}] is not an object")
        port = s.get("port")
        if port is not None:
            port = _as_dict(port, f"spec.servers[{i}].port")
            _port_number(port.get("number"), f"spec.servers[{i}].port.number")
        _str_list(s.get("hosts"), f"spec.servers[{i}].hosts")
        _as_dict(s.get("tls"), f"spec.servers[{i}].tls")


def _validate_virtualservice(spec: dict) -> None:
    _str_list(spec.get("hosts"), "spec.hosts")
    _str_list(spec.get("gateways"), "spec.gateways")
    _str_list(spec.get("exportTo"), "spec.exportTo")
    for section in ("http", "tcp", "tls"):
        for i, route in enumerate(_as_list(spec.get(section), f"spec.{section}")):
            if type(route) is not dict:
                raise BadObject(f"spec.{section}[{i}] is not an object")
            for j, dest in enumerate(_as_list(route.get("route"), f"spec.{section}[{i}].route")):
                if type(dest) is not dict:
                    raise BadObject(f"spec.{section}[{i}].route[{j}] is not an object")
                _as_dict(dest.get("destination"), f"spec.{section}[{i}].route[{j}].destination")
            for j, match in enumerate(_as_list(route.get("match"), f"spec.{section}[{i}].match")):
                if type(match) is not dict:
                    raise BadObject(f"spec.{section}[{i}].match[{j}] is not an object")
                _str_list(match.get("gateways"), f"spec.{section}[{i}].match[{j}].gateways")
            _as_dict(route.get("mirror"), f"spec.{section}[{i}].mirror")


def _validate_destinationrule(spec: dict) -> None:
    if type(spec.get("host")) is not str or not spec.get("host"):
        raise BadObject("spec.host is missing")
    _str_list(spec.get("exportTo"), "spec.exportTo")
    _validate_traffic_policy(spec.get("trafficPolicy"), "spec.trafficPolicy")
    for i, s in enumerate(_as_list(spec.get("subsets"), "spec.subsets")):
        if type(s) is not dict or type(s.get("name")) is not str:
            raise BadObject(f"spec.subsets[{i}] needs a name")
        _clean_map(s.get("labels"), f"spec.subsets[{i}].labels")
        _validate_traffic_policy(s.get("trafficPolicy"), f"spec.subsets[{i}].trafficPolicy")


def _validate_traffic_policy(tp, what: str) -> None:
    tp = _as_dict(tp, what)
    _as_dict(tp.get("tls"), f"{what}.tls")
    pool = _as_dict(tp.get("connectionPool"), f"{what}.connectionPool")
    _as_dict(pool.get("tcp"), f"{what}.connectionPool.tcp")
    for i, p in enumerate(_as_list(tp.get("portLevelSettings"), f"{what}.portLevelSettings")):
        if type(p) is not dict:
            raise BadObject(f"{what}.portLevelSettings[{i}] is not an object")
        _as_dict(p.get("port"), f"{what}.portLevelSettings[{i}].port")
        _as_dict(p.get("tls"), f"{what}.portLevelSettings[{i}].tls")
        pool = _as_dict(p.get("connectionPool"), f"{what}.portLevelSettings[{i}].connectionPool")
        _as_dict(pool.get("tcp"), f"{what}.portLevelSettings[{i}].connectionPool.tcp")


def _validate_serviceentry(spec: dict) -> None:
    _str_list(spec.get("hosts"), "spec.hosts")
    _str_list(spec.get("addresses"), "spec.addresses")
    _str_list(spec.get("exportTo"), "spec.exportTo")
    for i, p in enumerate(_as_list(spec.get("ports"), "spec.ports")):
        if type(p) is not dict:
            raise BadObject(f"spec.ports[{i}] is not an object")
        _port_number(p.get("number"), f"spec.ports[{i}].number")
    for i, e in enumerate(_as_list(spec.get("endpoints"), "spec.endpoints")):
        if type(e) is not dict:
            raise BadObject(f"spec.endpoints[{i}] is not an object")


def _validate_selector_spec(spec: dict) -> None:
    selector = _as_dict(spec.get("selector"), "spec.selector")
    _clean_map(selector.get("matchLabels"), "spec.selector.matchLabels")
    wl = _as_dict(spec.get("workloadSelector"), "spec.workloadSelector")
    _clean_map(wl.get("labels"), "spec.workloadSelector.labels")


def _validate_peerauthentication(spec: dict) -> None:
    _validate_selector_spec(spec)
    _as_dict(spec.get("mtls"), "spec.mtls")
    port_mtls = _as_dict(spec.get("portLevelMtls"), "spec.portLevelMtls")
    for k, v in port_mtls.items():
        _as_dict(v, f"spec.portLevelMtls[{k}]")


def _validate_authorizationpolicy(spec: dict) -> None:
    _validate_selector_spec(spec)
    for i, rule in enumerate(_as_list(spec.get("rules"), "spec.rules")):
        if type(rule) is not dict:
            raise BadObject(f"spec.rules[{i}] is not an object")
        for j, item in enumerate(_as_list(rule.get("from"), f"spec.rules[{i}].from")):
            if type(item) is not dict:
                raise BadObject(f"spec.rules[{i}].from[{j}] is not an object")
            for field, values in _as_dict(item.get("source"), f"spec.rules[{i}].from[{j}].source").items():
                _str_list(values, f"spec.rules[{i}].from[{j}].source.{field}")
        for j, cond in enumerate(_as_list(rule.get("when"), f"spec.rules[{i}].when")):
            if type(cond) is not dict or type(cond.get("key")) is not str:
                raise BadObject(f"spec.rules[{i}].when[{j}] needs a key")
            _str_list(cond.get("values"), f"spec.rules[{i}].when[{j}].values")


def _validate_envoyfilter(spec: dict) -> None:
    _validate_selector_spec(spec)
    for i, p in enumerate(_as_list(spec.get("configPatches"), "spec.configPatches")):
        if type(p) is not dict:
            raise BadObject(f"spec.configPatches[{i}] is not an object")


_VALIDATORS = {
    "Gateway": _validate_gateway,
    "VirtualService": _validate_virtualservice,
    "DestinationRule": _validate_destinationrule,
    "ServiceEntry": _validate_serviceentry,
    "Sidecar": _validate_selector_spec,
    "EnvoyFilter": _validate_envoyfilter,
    "PeerAuthentication": _validate_peerauthentication,
    "AuthorizationPolicy": _validate_authorizationpolicy,
    "RequestAuthentication": _validate_selector_spec,
}


class Warnings:
    """Counted warnings: one line per kind of problem, with a count and the first examples."""

    EXAMPLES = 3

    def __init__(self):
        self._groups: dict[str, list] = {}
        self._order: list[str] = []

    def add(self, group: str, example: str = "") -> None:
        entry = self._groups.get(group)
        if entry is None:
            entry = self._groups[group] = [0, []]
            self._order.append(group)
        entry[0] += 1
        if example and len(entry[1]) < self.EXAMPLES:
            entry[1].append(example)

    def merge(self, other: "Warnings") -> None:
        for group in other._order:
            count, examples = other._groups[group]
            entry = self._groups.get(group)
            if entry is None:
                entry = self._groups[group] = [0, []]
                self._order.append(group)
            entry[0] += count
            entry[1].extend(examples[: self.EXAMPLES - len(entry[1])])

    def lines(self) -> list[str]:
        out = []
        for group in self._order:
            count, examples = self._groups[group]
            text = f"{count} × {group}" if count > 1 else group
            if examples:
                more = ", …" if count > len(examples) else ""
                text += ": " + "; ".join(examples) + more
            out.append(text)
        return out

    def __len__(self) -> int:
        return len(self._order)


def list_item_defaults(kind: str, api) -> tuple[str, str]:
    """The kind and apiVersion a List gives items that lack them: a ``PodList`` of ``v1`` holds ``v1`` Pods;
    a plain ``List`` gives nothing."""
    item_kind = kind[:-4] if kind != "List" else ""
    return item_kind, (api if item_kind and type(api) is str else "")


class SnapshotBuilder:
    """Collects raw objects (dicts from JSON/YAML or the API), validates and slims each at once."""

    MAX_LIST_DEPTH = 8
    MAX_ITEMS = 5_000_000

    def __init__(self, source: str = ""):
        self.source = source
        self.objects: dict[tuple, Obj] = {}
        self.scanned: dict[str, int] = defaultdict(int)
        self.ignored: dict[str, int] = defaultdict(int)
        self.warnings = Warnings()
        self.non_objects = 0
        self._items = 0

    # The hot path: called once per object, keep it lean.
    def add(self, doc, origin: str = "", default_kind: str = "", default_api: str = "", depth: int = 0,
            line: int = 0) -> int:
        """Add one document (an object or a List of them); returns how many objects it held.

        ``line`` is where the document starts in ``origin`` (1-based; 0 when unknown): SARIF points there.
        """
        if type(doc) is not dict:
            if doc is not None:
                self.non_objects += 1
                self.warnings.add(f"ignored documents that are not Kubernetes objects in {origin or 'input'}")
            return 0
        kind = doc.get("kind") or default_kind
        api = doc.get("apiVersion") or default_api
        if type(kind) is not str or not kind:
            self.non_objects += 1
            self.warnings.add(f"ignored documents without a kind in {origin or 'input'}")
            return 0
        if kind.endswith("List"):
            return self._add_list(doc, kind, api, origin, depth, line)
        self._items += 1
        if self._items > self.MAX_ITEMS:
            raise BadObject(f"more than {self.MAX_ITEMS} objects: refusing to go on (a YAML alias bomb?)")
        api = api if type(api) is str else ""
        group = api.rpartition("/")[0] if "/" in api else CORE
        group = _GROUP_ALIASES.get(group, group)
        if kind not in KIND_GROUPS or (api and KIND_GROUPS[kind] != group):
            label = kind if not api or "/" not in api else f"{kind} ({group})"
            self.ignored[label] += 1
            return 1
        try:
            obj = self._slim(doc, kind, origin, line)
        except BadObject as exc:
            md = doc.get("metadata")
            name = md.get("name") if type(md) is dict else None
            where = f"{kind} {name}" if type(name) is str else kind
            self.warnings.add("skipped malformed objects", f"{where}: {exc}")
            return 1
        key = obj.key
        if key in self.objects:
            self.warnings.add("duplicate objects (the later one is used)", f"{kind} {obj.namespace}/{obj.name}")
        else:
            self.scanned[kind] += 1
        self.objects[key] = obj
        return 1

    def _add_list(self, doc, kind, api, origin, depth, line=0) -> int:
        if depth >= self.MAX_LIST_DEPTH:
            raise BadObject(f"Lists nested more than {self.MAX_LIST_DEPTH} deep")
        items = doc.get("items")
        if items is None:
            return 0
        if type(items) is not list:
            self.warnings.add(f"ignored a {kind} whose items are not a list in {origin or 'input'}")
            return 0
        item_kind, item_api = list_item_defaults(kind, api)
        count = 0
        for i in range(len(items)):
            count += self.add(items[i], origin, item_kind, item_api, depth + 1, line)
            items[i] = None  # release the full object as soon as it is slimmed
        return count

    def _slim(self, doc: dict, kind: str, origin: str, line: int = 0) -> Obj:
        md = doc.get("metadata")
        if type(md) is not dict:
            raise BadObject("metadata is missing")
        name = md.get("name")
        if type(name) is not str or not name:
            raise BadObject("metadata.name is missing")
        if kind in CLUSTER_SCOPED:
            namespace = ""
        else:
            namespace = md.get("namespace") or "default"
            if type(namespace) is not str:
                raise BadObject("metadata.namespace is not a string")
        labels = md.get("labels")
        labels = _clean_map(labels, "metadata.labels") if labels else {}
        annotations = _istio_annotations(md.get("annotations"))
        owner = None
        refs = md.get("ownerReferences")
        if refs:
            if type(refs) is not list:
                raise BadObject("metadata.ownerReferences is not a list")
            for ref in refs:
                if type(ref) is dict and (owner is None or ref.get("controller")):
                    owner = (ref.get("kind"), ref.get("name"))
        extra = None
        if kind == "Pod":
            spec = _slim_pod(doc)
        elif kind == "Service":
            spec = _slim_service(doc)
        elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
            spec = _slim_workload(doc)
        elif kind == "ConfigMap":
            spec = _slim_configmap(doc, name)
        elif kind == "Namespace":
            spec = {}
        else:
            spec = _slim_istio(doc, kind)
            status = doc.get("status")
            if kind == "ServiceEntry" and type(status) is dict and type(status.get("addresses")) is list:
                extra = {"status_addresses": status["addresses"]}
        return Obj(
            kind,
            namespace,
            name,
            labels,
            annotations,
            _timestamp(md.get("creationTimestamp")),
            owner,
            spec,
            origin,
            doc.get("apiVersion") or "",
            extra,
            line,
        )

    def absorb(self, other: "SnapshotBuilder") -> None:
        """Take over everything another builder collected (a completed list from the API)."""
        for key, obj in other.objects.items():
            if key in self.objects:
                self.warnings.add("duplicate objects (the later one is used)", f"{obj.kind} {obj.namespace}/{obj.name}")
            else:
                self.scanned[obj.kind] += 1
            self.objects[key] = obj
        for kind, count in other.ignored.items():
            self.ignored[kind] += count
        self.warnings.merge(other.warnings)
        self.non_objects += other.non_objects

    def build(self, now: _dt.datetime | None = None, unread=()) -> "Snapshot":
        if self.ignored:
            kinds = ", ".join(f"{k} ({n})" for k, n in sorted(self.ignored.items()))
            self.warnings.add(f"ignored {sum(self.ignored.values())} objects of kinds the scanner does not read: {kinds}")
        return Snapshot(self.objects.values(), source=self.source, warnings=self.warnings.lines(),
                        scanned=dict(self.scanned), now=now, unread=unread)


class Snapshot:
    """Read-only view over slimmed objects with lazily built indexes."""

    def __init__(self, objects, *, source: str = "", warnings=(), scanned=None, now=None, unread=()):
        self.source = source
        self.warnings = list(warnings)
        # Kinds a live read failed for (403, CRD missing): their absence says nothing about the cluster.
        self.unread = frozenset(unread)
        self._now = now
        by_kind: dict[str, list[Obj]] = defaultdict(list)
        by_key: dict[tuple, Obj] = {}
        for obj in objects:
            by_kind[obj.kind].append(obj)
            by_key[obj.key] = obj
        self._by_kind = by_kind
        self._by_key = by_key
        if scanned is None:
            scanned = {kind: len(items) for kind, items in by_kind.items()}
        self.scanned = scanned

    @classmethod
    def from_objects(cls, docs, *, source: str = "test", now=None) -> "Snapshot":
        """Build from raw dicts (tests, remediation round-trips)."""
        builder = SnapshotBuilder(source)
        for doc in docs:
            builder.add(doc, source)
        return builder.build(now=now)

    # --- basic access -----------------------------------------------------------------------

    def of_kind(self, kind: str) -> list[Obj]:
        return self._by_kind.get(kind, [])

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self._by_key.get((kind, namespace, name))

    def __len__(self) -> int:
        return len(self._by_key)

    def all_objects(self):
        return self._by_key.values()

    @cached_property
    def _by_namespace(self) -> dict:
        index: dict = defaultdict(lambda: defaultdict(list))
        for obj in self._by_key.values():
            index[obj.kind][obj.namespace].append(obj)
        return index

    def in_namespace(self, kind: str, namespace: str) -> list[Obj]:
        per_kind = self._by_namespace.get(kind)
        return per_kind.get(namespace, []) if per_kind else []

    def namespace(self, name: str) -> Obj | None:
        return self._by_key.get(("Namespace", "", name))

    @property
    def now(self) -> _dt.datetime:
        """The moment the snapshot describes: given by the live reader, else the newest time seen."""
        if self._now is None:
            self._now = self._latest_time() or _dt.datetime.now(_dt.timezone.utc)
        return self._now

    def _latest_time(self) -> _dt.datetime | None:
        latest = ""
        for obj in self._by_key.values():
            if obj.created > latest:
                latest = obj.created
            if obj.kind == "Pod":
                for st in obj.spec["statuses"]:
                    if type(st) is not dict:
                        continue
                    for state_key in ("state", "lastState"):
                        state = st.get(state_key)
                        if type(state) is not dict:
                            continue
                        for detail in state.values():
                            if type(detail) is dict:
                                for tkey in ("startedAt", "finishedAt"):
                                    t = detail.get(tkey)
                                    if type(t) is str and t > latest:
                                        latest = t
        return parse_time(latest)

    # --- labels and selectors ---------------------------------------------------------------

    @cached_property
    def _pod_index(self) -> dict:
        """(namespace or None, label key, value) -> pods; None collects every namespace."""
        index: dict = defaultdict(list)
        for pod in self.of_kind("Pod"):
            ns = pod.namespace
            for k, v in pod.labels.items():
                index[(ns, k, v)].append(pod)
                index[(None, k, v)].append(pod)
        return index

    def pods_matching(self, selector: dict, namespace: str | None = None) -> list[Obj]:
        """Pods whose labels contain every ``selector`` pair (in one namespace, or anywhere)."""
        if not selector:
            return list(self.in_namespace("Pod", namespace)) if namespace is not None else list(self.of_kind("Pod"))
        index = self._pod_index
        postings = []
        for k, v in selector.items():
            found = index.get((namespace, k, v))
            if not found:
                return []
            postings.append(found)
        postings.sort(key=len)
        first, rest = postings[0], postings[1:]
        if not rest:
            return list(first)
        items = selector.items()
        return [p for p in first if all(p.labels.get(k) == v for k, v in items)]

    def pods_of_service(self, service: Obj) -> list[Obj]:
        selector = service.spec.get("selector")
        if not selector:
            return []
        return self.pods_matching(selector, service.namespace)

    @cached_property
    def _services_by_pod_label(self) -> dict:
        index: dict = defaultdict(list)
        for svc in self.of_kind("Service"):
            selector = svc.spec.get("selector")
            if selector:
                k, v = next(iter(selector.items()))
                index[(svc.namespace, k, v)].append(svc)
        return index

    def services_selecting(self, pod: Obj) -> list[Obj]:
        out = []
        seen = set()
        index = self._services_by_pod_label
        for k, v in pod.labels.items():
            for svc in index.get((pod.namespace, k, v), ()):
                if id(svc) in seen:
                    continue
                seen.add(id(svc))
                if all(pod.labels.get(sk) == sv for sk, sv in svc.spec["selector"].items()):
                    out.append(svc)
        return out

    # --- ownership ------------------------------------------------------------------------

    def workload_of(self, pod: Obj) -> Ref:
        """The Deployment/StatefulSet/DaemonSet/Job that owns a pod (the pod itself when bare)."""
        owner = pod.owner
        if not owner or not owner[0] or not owner[1]:
            return pod.ref
        kind, name = owner
        if kind == "ReplicaSet":
            rs = self.get("ReplicaSet", pod.namespace, name)
            if rs is not None and rs.owner and rs.owner[0] == "Deployment":
                return Ref("Deployment", pod.namespace, rs.owner[1])
            template_hash = pod.labels.get("pod-template-hash")
            if rs is None and template_hash and name.endswith("-" + template_hash):
                return Ref("Deployment", pod.namespace, name[: -len(template_hash) - 1])
            return Ref("ReplicaSet", pod.namespace, name)
        return Ref(kind, pod.namespace, name)

    def annotations_of(self, ref: Ref) -> dict:
        obj = self._by_key.get((ref.kind, ref.namespace, ref.name))
        return obj.annotations if obj is not None else {}

    # --- hosts ----------------------------------------------------------------------------

    @property
    def domain(self) -> str:
        return self.mesh_config().get("_domain", _hosts.DEFAULT_DOMAIN)

    @cached_property
    def services_by_host(self) -> dict[str, Obj]:
        domain = self.domain
        return {f"{s.name}.{s.namespace}.svc.{domain}": s for s in self.of_kind("Service")}

    def service_for_host(self, host: str, namespace: str) -> Obj | None:
        """The Kubernetes Service a VirtualService/DestinationRule host names, if any."""
        return self.services_by_host.get(_hosts.fqdn(host, namespace, self.domain))

    @cached_property
    def serviceentries_by_host(self) -> dict[str, list[Obj]]:
        index: dict = defaultdict(list)
        for se in self.of_kind("ServiceEntry"):
            for h in se.spec.get("hosts") or ():
                index[h].append(se)
        return index

    @cached_property
    def destinationrules_by_host(self) -> dict[str, list[Obj]]:
        domain = self.domain
        index: dict = defaultdict(list)
        for dr in self.of_kind("DestinationRule"):
            index[_hosts.fqdn(dr.spec["host"], dr.namespace, domain)].append(dr)
        return index

    def destination_rules_for(self, host: str, client_namespace: str) -> list[Obj]:
        """DestinationRules visible to a client namespace whose host covers ``host``, most specific first.

        Visibility follows ``exportTo`` (default: every namespace; ``.`` = own namespace). Lookups go
        through the host index (exact name, then each wildcard suffix), never over every rule.
        """
        root = self.root_namespace
        index = self.destinationrules_by_host
        found = []
        for dr_host in _hosts.wildcard_candidates(host):
            for dr in index.get(dr_host, ()):
                if dr.namespace == client_namespace or dr.namespace == root or _exported_to(
                    dr.spec.get("exportTo"), dr.namespace, client_namespace
                ):
                    found.append((dr_host, dr))
        found.sort(key=lambda item: (_hosts.specificity(item[0]), item[1].namespace != client_namespace,
                                     item[1].order_key))
        return [dr for _, dr in found]

    # --- Istio control plane --------------------------------------------------------------

    @cached_property
    def control_planes(self) -> list[ControlPlane]:
        planes = []
        for dep in self.of_kind("Deployment"):
            app = dep.labels.get("app")
            if not (app == "istiod" or dep.name == "istiod" or dep.name.startswith("istiod-")):
                continue
            container = next(
                (c for c in dep.spec["containers"] if c.get("name") == "discovery"), None
            ) or (dep.spec["containers"][0] if dep.spec["containers"] else None)
            if container is None:
                continue
            env = {}
            for item in container.get("env") or ():
                if type(item) is dict and type(item.get("name")) is str and "value" in item:
                    env[item["name"]] = _label_text(item.get("value"))
            revision = dep.labels.get("istio.io/rev") or "default"
            image = container.get("image") or ""
            planes.append(
                ControlPlane(dep.namespace, dep.name, revision, image, IstioVersion.from_image(image), env)
            )
        planes.sort(key=lambda p: (p.revision != "default", p.revision, p.namespace))
        return planes

    @property
    def istio_versions(self) -> list[str]:
        return sorted({str(p.version) for p in self.control_planes if p.version})

    @property
    def istio_revisions(self) -> list[str]:
        return sorted({p.revision for p in self.control_planes})

    @cached_property
    def _mesh_configs(self) -> dict[str, dict]:
        """Revision -> parsed MeshConfig from the ``istio``/``istio-<rev>`` ConfigMaps."""
        configs = {}
        namespaces = {p.namespace for p in self.control_planes} or {"istio-system"}
        for cm in self.of_kind("ConfigMap"):
            if cm.namespace not in namespaces:
                continue
            data = cm.spec.get("data") or {}
            text = data.get("mesh")
            if cm.name == "istio":
                revision = "default"
            elif cm.name.startswith("istio-") and text is not None:
                revision = cm.name[len("istio-"):]
            else:
                continue
            parsed = {}
            if isinstance(text, str) and text.strip():
                try:
                    parsed = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
                except yaml.YAMLError:
                    self.warnings.append(f"ConfigMap {cm.namespace}/{cm.name}: data.mesh is not valid YAML")
                    parsed = {}
            if not isinstance(parsed, dict):
                self.warnings.append(f"ConfigMap {cm.namespace}/{cm.name}: data.mesh is not a map")
                parsed = {}
            parsed = dict(parsed)
            parsed["_source"] = cm.ref
            configs[revision] = parsed
        return configs

    def mesh_config(self, revision: str = "default") -> dict:
        configs = self._mesh_configs
        return configs.get(revision or "default") or configs.get("default") or {}

    def mesh_configs(self) -> dict[str, dict]:
        return self._mesh_configs

    @property
    def root_namespace(self) -> str:
        root = self.mesh_config().get("rootNamespace")
        if isinstance(root, str) and root:
            return root
        planes = self.control_planes
        return planes[0].namespace if planes else "istio-system"

    def control_plane(self, revision: str = "default") -> ControlPlane | None:
        for plane in self.control_planes:
            if plane.revision == (revision or "default"):
                return plane
        return None

    # --- pods and the mesh ----------------------------------------------------------------

    @staticmethod
    def pod_revision(pod: Obj) -> str:
        rev = pod.labels.get("istio.io/rev")
        if rev:
            return rev
        status = pod.annotations.get("sidecar.istio.io/status")
        if status:
            try:
                value = json.loads(status)
            except ValueError:
                value = None
            if isinstance(value, dict) and isinstance(value.get("revision"), str) and value["revision"]:
                return value["revision"]
        return "default"

    def namespace_injection(self, name: str) -> str | None:
        """``enabled``, ``disabled``, ``rev:<name>``, ``ambient`` or None (no label) for a namespace."""
        ns = self.namespace(name)
        if ns is None:
            return None
        label = ns.labels.get("istio-injection")
        if label == "enabled":
            return "enabled"
        if label == "disabled":
            return "disabled"
        rev = ns.labels.get("istio.io/rev")
        if rev:
            return f"rev:{rev}"
        if ns.labels.get("istio.io/dataplane-mode") == "ambient":
            return "ambient"
        return None

    @cached_property
    def sidecar_namespaces(self) -> set[str]:
        """Namespaces with at least one pod that runs a sidecar."""
        return {p.namespace for p in self.of_kind("Pod") if p.spec["sidecar"]}

    @cached_property
    def has_mesh(self) -> bool:
        return bool(self.control_planes or self.sidecar_namespaces or any(
            self.of_kind(k) for k in ("Gateway", "VirtualService", "DestinationRule", "ServiceEntry")))


def _exported_to(export_to, own_namespace: str, client_namespace: str) -> bool:
    if not export_to:
        return True
    for entry in export_to:
        if entry == "*" or entry == client_namespace or (entry == "." and own_namespace == client_namespace):
            return True
    return False


def exported_to(obj: Obj, client_namespace: str) -> bool:
    """Whether an Istio object (``spec.exportTo``) is visible to a client namespace."""
    return _exported_to(obj.spec.get("exportTo"), obj.namespace, client_namespace)
