"""Read a live cluster into a snapshot through the official ``kubernetes`` client.

``ClusterReader(api_client).read()`` lists every kind in :data:`KINDS` with ``limit``/``continue``
pagination (restarting a list that expires with 410 Gone), ``_preload_content=False`` and its own
JSON decoding (the client's typed models are slow and, in client 37, strict), a timeout on every
request, and Istio API versions tried v1 → v1beta1 → v1alpha3 as the server serves them.

A problem with one kind (403 Forbidden, a missing Istio CRD or API group, a 5xx from an aggregated
API) is recorded in ``ReadResult.errors`` so the caller can mark the scan *partial*; a problem with
the cluster itself (unreachable, TLS, 401, timeout) raises :class:`ClusterError` with a one-line
reason. The reader never touches global client configuration: pass an isolated ``ApiClient``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import dataclass, field

from .snapshot import Snapshot, SnapshotBuilder


@dataclass(frozen=True)
class KindSpec:
    group: str
    versions: tuple
    plural: str
    kind: str
    namespaced: bool = True
    only_namespace: str | None = None  # read in this namespace only (the Istio root namespace)

    @property
    def label(self) -> str:
        return self.kind


ISTIO_NAMESPACE = "istio-system"

#: Every (group, versions, plural) the scanner reads; the README's read-only ClusterRole is built from it.
KINDS = (
    KindSpec("", ("v1",), "namespaces", "Namespace", namespaced=False),
    KindSpec("", ("v1",), "pods", "Pod"),
    KindSpec("", ("v1",), "services", "Service"),
    KindSpec("", ("v1",), "configmaps", "ConfigMap", only_namespace=ISTIO_NAMESPACE),
    KindSpec("apps", ("v1",), "deployments", "Deployment"),
    KindSpec("apps", ("v1",), "replicasets", "ReplicaSet"),
    KindSpec("apps", ("v1",), "statefulsets", "StatefulSet"),
    KindSpec("apps", ("v1",), "daemonsets", "DaemonSet"),
    KindSpec("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "gateways", "Gateway"),
    KindSpec("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "virtualservices", "VirtualService"),
    KindSpec("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "destinationrules", "DestinationRule"),
    KindSpec("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "serviceentries", "ServiceEntry"),
    KindSpec("networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars", "Sidecar"),
    KindSpec("networking.istio.io", ("v1alpha3",), "envoyfilters", "EnvoyFilter"),
    KindSpec("security.istio.io", ("v1", "v1beta1"), "peerauthentications", "PeerAuthentication"),
    KindSpec("security.istio.io", ("v1", "v1beta1"), "authorizationpolicies", "AuthorizationPolicy"),
    KindSpec("security.istio.io", ("v1", "v1beta1"), "requestauthentications", "RequestAuthentication"),
)


def cluster_role_yaml(name: str = "meshkb-reader") -> str:
    """The read-only RBAC meshkb needs: get/list on exactly :data:`KINDS`."""
    import yaml

    by_group: dict[str, list[str]] = {}
    namespaced_only = [k for k in KINDS if k.only_namespace]
    for k in KINDS:
        if k.only_namespace:
            continue
        by_group.setdefault(k.group, []).append(k.plural)
    rules = [{"apiGroups": [group], "resources": plurals, "verbs": ["get", "list"]} for group, plurals in by_group.items()]
    docs = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": rules},
    ]
    for k in namespaced_only:
        docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                     "metadata": {"name": name, "namespace": k.only_namespace},
                     "rules": [{"apiGroups": [k.group], "resources": [k.plural], "verbs": ["get", "list"]}]})
    return yaml.safe_dump_all(docs, sort_keys=False)


class ClusterError(Exception):
    """The cluster cannot be read at all: unreachable, TLS failure, bad credentials, timeout."""


class _KindError(Exception):
    pass


class _Expired(Exception):
    pass


class _NotServed(Exception):
    pass


@dataclass
class ReadResult:
    snapshot: Snapshot
    errors: dict = field(default_factory=dict)  # kind -> one-line reason
    versions: dict = field(default_factory=dict)  # kind -> group/version actually read

    @property
    def partial(self) -> bool:
        return bool(self.errors)


class ClusterReader:
    def __init__(self, api_client, *, timeout=(10, 60), page_size: int = 500, istio_namespace: str = ISTIO_NAMESPACE,
                 max_restarts: int = 3, kinds=KINDS, source: str = "cluster"):
        self.api = api_client
        self.timeout = timeout
        self.page_size = page_size
        self.istio_namespace = istio_namespace
        self.max_restarts = max_restarts
        self.kinds = kinds
        self.source = source

    # --- public -------------------------------------------------------------------------

    def read(self) -> ReadResult:
        # urllib3 logs every retry as a warning; the caller gets one ClusterError line instead.
        quiet = logging.getLogger("urllib3.connectionpool")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            return self._read()
        finally:
            quiet.setLevel(level)

    def _read(self) -> ReadResult:
        from kubernetes import client

        self._core = client.CoreV1Api(self.api)
        self._apps = client.AppsV1Api(self.api)
        self._custom = client.CustomObjectsApi(self.api)
        served = self._served_groups()
        builder = SnapshotBuilder(self.source)
        errors, versions = {}, {}
        for spec in self.kinds:
            try:
                versions[spec.kind] = self._read_kind(spec, served, builder)
            except _KindError as exc:
                errors[spec.kind] = str(exc)
                builder.warnings.add(f"partial scan: could not read {spec.kind}", str(exc))
        now = _dt.datetime.now(_dt.timezone.utc)
        return ReadResult(builder.build(now=now, unread=errors), errors, versions)

    # --- discovery ------------------------------------------------------------------------

    def _served_groups(self) -> dict[str, list[str]] | None:
        """group -> served versions from /apis, or None when discovery is not allowed."""
        from kubernetes import client

        try:
            resp = client.ApisApi(self.api).get_api_versions(_preload_content=False, _request_timeout=self.timeout)
            doc = self._decode(resp)
        except _KindError:
            return None
        except Exception as exc:
            self._raise_for_cluster(exc)
            return None
        served = {}
        for group in doc.get("groups") or ():
            served[group.get("name")] = [v.get("version") for v in group.get("versions") or ()]
        return served

    # --- listing --------------------------------------------------------------------------

    def _read_kind(self, spec: KindSpec, served, builder: SnapshotBuilder) -> str:
        if not spec.group or spec.group == "apps":
            self._read_list(spec, spec.versions[0], builder)
            return f"{spec.group + '/' if spec.group else ''}{spec.versions[0]}"
        candidates = list(spec.versions)
        if served is not None:
            if spec.group not in served:
                raise _KindError(f"API group {spec.group} is not served (Istio CRDs not installed?)")
            candidates = [v for v in spec.versions if v in served[spec.group]]
            if not candidates:
                raise _KindError(f"{spec.group} serves none of {', '.join(spec.versions)} for {spec.plural}")
        for version in candidates:
            try:
                self._read_list(spec, version, builder)
                return f"{spec.group}/{version}"
            except _NotServed:
                continue
        raise _KindError(f"{spec.plural}.{spec.group} is not served in {', '.join(candidates)} (CRD not installed?)")

    def _call(self, spec: KindSpec, version: str, **kw):
        kw.update(_preload_content=False, _request_timeout=self.timeout)
        ns = spec.only_namespace and (self.istio_namespace if spec.only_namespace == ISTIO_NAMESPACE else spec.only_namespace)
        if spec.group == "":
            if spec.plural == "namespaces":
                return self._core.list_namespace(**kw)
            if ns:
                return getattr(self._core, f"list_namespaced_{_SINGULAR[spec.plural]}")(ns, **kw)
            return getattr(self._core, f"list_{_SINGULAR[spec.plural]}_for_all_namespaces")(**kw)
        if spec.group == "apps":
            return getattr(self._apps, f"list_{_SINGULAR[spec.plural]}_for_all_namespaces")(**kw)
        if ns:
            return self._custom.list_namespaced_custom_object(spec.group, version, ns, spec.plural, **kw)
        return self._custom.list_cluster_custom_object(spec.group, version, spec.plural, **kw)

    def _read_list(self, spec: KindSpec, version: str, builder: SnapshotBuilder) -> None:
        restarts = 0
        while True:
            part = SnapshotBuilder(self.source)
            try:
                self._pages(spec, version, part)
            except _Expired:
                restarts += 1
                if restarts > self.max_restarts:
                    raise _KindError(f"listing {spec.plural} kept expiring (410 Gone) after {self.max_restarts} restarts")
                continue
            builder.absorb(part)
            return

    def _pages(self, spec: KindSpec, version: str, part: SnapshotBuilder) -> None:
        token = None
        default_api = f"{spec.group}/{version}" if spec.group else version
        while True:
            kw = {"limit": self.page_size}
            if token:
                kw["_continue"] = token
            try:
                resp = self._call(spec, version, **kw)
                doc = self._decode(resp)
            except _KindError:
                raise
            except Exception as exc:
                status = getattr(exc, "status", None)
                if status == 410:
                    raise _Expired() from None
                if status == 404:
                    raise _NotServed() from None
                if status == 403:
                    raise _KindError(f"forbidden: {_api_message(exc)}") from None
                self._raise_for_cluster(exc)
                raise _KindError(f"{status or type(exc).__name__}: {_api_message(exc)}") from None
            items = doc.get("items")
            list_kind = doc.get("kind") or f"{spec.kind}List"
            part.add({"kind": list_kind, "apiVersion": doc.get("apiVersion") or default_api,
                      "items": items if isinstance(items, list) else []}, "cluster")
            token = (doc.get("metadata") or {}).get("continue")
            if not token:
                return

    def _decode(self, resp) -> dict:
        try:
            data = resp.data
        finally:
            try:
                resp.release_conn()
            except Exception:  # pragma: no cover - connection already gone
                pass
        try:
            doc = json.loads(data)
        except ValueError:
            raise _KindError("the API server sent a response that is not JSON") from None
        if not isinstance(doc, dict):
            raise _KindError("the API server sent an unexpected response")
        return doc

    def _raise_for_cluster(self, exc: Exception) -> None:
        """Raise ClusterError for failures of the whole cluster; return for per-kind ones."""
        import urllib3

        status = getattr(exc, "status", None)
        if status == 401:
            raise ClusterError(f"unauthorized (401): the API server rejected the credentials ({_host(self.api)})") from None
        if status == 0:
            raise ClusterError(f"cannot reach {_host(self.api)}: {_one_line(getattr(exc, 'reason', exc))}") from None
        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            reason = exc.reason
            if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
                raise ClusterError(f"{_host(self.api)} did not answer within {self._read_timeout()} s (read timeout)") from None
            if isinstance(reason, urllib3.exceptions.NewConnectionError):
                raise ClusterError(f"cannot reach {_host(self.api)}: {_one_line(reason)}") from None
            if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
                raise ClusterError(f"cannot reach {_host(self.api)}: connection timed out") from None
            if isinstance(reason, urllib3.exceptions.SSLError):
                raise ClusterError(f"TLS error talking to {_host(self.api)}: {_one_line(reason)}") from None
            raise ClusterError(f"cannot reach {_host(self.api)}: {_one_line(reason)}") from None
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
            raise ClusterError(f"{_host(self.api)} did not answer within {self._read_timeout()} s (read timeout)") from None
        if isinstance(exc, urllib3.exceptions.SSLError):
            raise ClusterError(f"TLS error talking to {_host(self.api)}: {_one_line(exc)}") from None
        if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
            raise ClusterError(f"cannot reach {_host(self.api)}: {_one_line(exc)}") from None
        if status is None:
            raise exc

    def _read_timeout(self):
        return self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout


_SINGULAR = {
    "pods": "pod",
    "services": "service",
    "configmaps": "config_map",
    "deployments": "deployment",
    "replicasets": "replica_set",
    "statefulsets": "stateful_set",
    "daemonsets": "daemon_set",
}


def _host(api) -> str:
    try:
        return api.configuration.host
    except AttributeError:  # pragma: no cover
        return "the API server"


def _one_line(value) -> str:
    text = " ".join(str(value).split())
    if "Failed to establish a new connection:" in text:
        text = text.split("Failed to establish a new connection:", 1)[1].strip().rstrip("')\"")
        text = text.split("] ", 1)[-1] if text.startswith("[Errno") else text
    return text[:300]


def _api_message(exc) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            doc = json.loads(body)
            if isinstance(doc, dict) and doc.get("message"):
                return _one_line(doc["message"])
        except ValueError:
            pass
    return _one_line(getattr(exc, "reason", None) or exc)


def api_client_from_kubeconfig(path: str | None = None, context: str | None = None, retries: int = 1):
    """An isolated ``ApiClient`` for one kubeconfig context (never the global default configuration)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        cfg = client.Configuration()
        config.load_kube_config(config_file=path, context=context, client_configuration=cfg, persist_config=False)
        cfg.retries = retries
        return client.ApiClient(configuration=cfg)
    except ConfigException as exc:
        raise ClusterError(f"kubeconfig: {_one_line(exc)}") from None
    except FileNotFoundError as exc:
        raise ClusterError(f"kubeconfig: {exc.filename or path}: no such file") from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ClusterError(f"kubeconfig {path or '(default)'}: {_one_line(exc)}") from None
