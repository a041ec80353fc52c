"""A small Kubernetes API server for tests, seeded from YAML, spoken to with the real client over HTTP.

kmock's emulator ignores ``limit``/``continue``, so this one is our own (``http.server``):

- discovery: ``/api``, ``/api/v1``, ``/apis``, ``/apis/<group>``, ``/apis/<group>/<version>``, ``/version``;
- lists of core, apps and Istio resources, cluster-wide and per namespace, in every Istio API version the
  emulated control plane serves (EnvoyFilter only in v1alpha3), with ``limit``/``continue`` pagination;
- faults on demand: 403 for a kind (``forbid``), API groups not installed (``without_groups``), 410 Gone
  for the next N continue requests of a kind (``expire``), slow answers (``delay``), bearer-token checks
  (401), HTTPS with a self-signed certificate (``tls=True``);
- a request log (``requests``) for assertions.

Usage::

    with KubernetesEmulator.from_yaml(text) as emu:
        with emu.api_client() as api:            # or emu.kubeconfig(path) for the CLI
            ...

or the ``k8s_emulator`` pytest fixture (``emu = k8s_emulator(yaml_text, forbid={"pods"})``).
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

ISTIO_NETWORKING = "networking.istio.io"
ISTIO_SECURITY = "security.istio.io"

# kind -> (group, plural, namespaced)
RESOURCES = {
    "Namespace": ("", "namespaces", False),
    "Pod": ("", "pods", True),
    "Service": ("", "services", True),
    "ConfigMap": ("", "configmaps", True),
    "Secret": ("", "secrets", True),
    "Node": ("", "nodes", False),
    "Deployment": ("apps", "deployments", True),
    "ReplicaSet": ("apps", "replicasets", True),
    "StatefulSet": ("apps", "statefulsets", True),
    "DaemonSet": ("apps", "daemonsets", True),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", False),
    "Gateway": (ISTIO_NETWORKING, "gateways", True),
    "VirtualService": (ISTIO_NETWORKING, "virtualservices", True),
    "DestinationRule": (ISTIO_NETWORKING, "destinationrules", True),
    "ServiceEntry": (ISTIO_NETWORKING, "serviceentries", True),
    "Sidecar": (ISTIO_NETWORKING, "sidecars", True),
    "EnvoyFilter": (ISTIO_NETWORKING, "envoyfilters", True),
    "WorkloadEntry": (ISTIO_NETWORKING, "workloadentries", True),
    "PeerAuthentication": (ISTIO_SECURITY, "peerauthentications", True),
    "AuthorizationPolicy": (ISTIO_SECURITY, "authorizationpolicies", True),
    "RequestAuthentication": (ISTIO_SECURITY, "requestauthentications", True),
}
BUILTIN_VERSIONS = {"": ("v1",), "apps": ("v1",), "admissionregistration.k8s.io": ("v1",)}
MODERN_ISTIO = {ISTIO_NETWORKING: ("v1", "v1beta1", "v1alpha3"), ISTIO_SECURITY: ("v1", "v1beta1")}
OLD_ISTIO = {ISTIO_NETWORKING: ("v1beta1", "v1alpha3"), ISTIO_SECURITY: ("v1beta1",)}
ONLY_V1ALPHA3 = {"envoyfilters"}


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class KubernetesEmulator:
    def __init__(self, objects=(), *, istio=MODERN_ISTIO, token: str = "meshkb-test-token", tls: bool = False,
                 forbid=(), without_groups=(), delay: float | dict = 0.0, expire: dict | None = None,
                 forbid_discovery: bool = False):
        self.store: dict[str, dict[tuple, dict]] = {kind: {} for kind in RESOURCES}
        self.istio = dict(istio)
        self.token = token
        self.tls = tls
        self.forbid = set(forbid)  # plurals answered with 403
        self.without_groups = set(without_groups)  # API groups not installed
        self.delay = delay  # seconds, or {plural: seconds}
        self.expire = dict(expire or {})  # plural -> how many continue requests get 410
        self.forbid_discovery = forbid_discovery
        self.requests: list[tuple[str, dict]] = []
        self.resource_version = 1000
        self._server = None
        self._thread = None
        self._tmp = None
        self.add(*objects)

    @classmethod
    def from_yaml(cls, text: str, **kw) -> "KubernetesEmulator":
        docs = []
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List"):
                docs.extend(doc.get("items") or [])
            elif doc:
                docs.append(doc)
        return cls(docs, **kw)

    # --- state ----------------------------------------------------------------------------

    def add(self, *objects) -> None:
        for obj in objects:
            kind = obj["kind"]
            _, _, namespaced = RESOURCES[kind]
            obj = copy.deepcopy(obj)
            md = obj.setdefault("metadata", {})
            if namespaced:
                md.setdefault("namespace", "default")
            self.resource_version += 1
            md.setdefault("resourceVersion", str(self.resource_version))
            md.setdefault("uid", f"uid-{self.resource_version}")
            self.store[kind][(md.get("namespace", ""), md["name"])] = obj

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> "KubernetesEmulator":
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        if self.tls:
            self._tmp = tempfile.TemporaryDirectory()
            cert, key = _self_signed(Path(self._tmp.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "KubernetesEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def kubeconfig_dict(self, context: str = "emulator", token: str | None = None) -> dict:
        return {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "emulated", "cluster": {"server": self.url}}],
            "users": [{"name": "reader", "user": {"token": token if token is not None else self.token}}],
            "contexts": [{"name": context, "context": {"cluster": "emulated", "user": "reader"}}],
        }

    def kubeconfig(self, path: Path, **kw) -> Path:
        path.write_text(json.dumps(self.kubeconfig_dict(**kw)))
        return path

    def api_client(self, token: str | None = None, retries: int = 0):
        """An isolated ``kubernetes.client.ApiClient`` for this server."""
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config_from_dict(self.kubeconfig_dict(token=token), client_configuration=cfg,
                                          persist_config=False)
        cfg.retries = retries
        return client.ApiClient(configuration=cfg)

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    # --- API ------------------------------------------------------------------------------

    def served_versions(self, group: str) -> tuple:
        if group in self.without_groups:
            return ()
        if group in BUILTIN_VERSIONS:
            return BUILTIN_VERSIONS[group]
        return tuple(self.istio.get(group, ()))

    def resources_in(self, group: str, version: str) -> list[tuple[str, str, bool]]:
        out = []
        for kind, (g, plural, namespaced) in RESOURCES.items():
            if g != group or version not in self.served_versions(group):
                continue
            if plural in ONLY_V1ALPHA3 and version != "v1alpha3":
                continue
            out.append((kind, plural, namespaced))
        return out

    def handle(self, path: str, query: dict, headers) -> tuple[int, dict]:
        self.requests.append((path, query))
        scheme, _, presented = (headers.get("Authorization") or "").partition(" ")
        if self.token and (scheme.lower() != "bearer" or presented != self.token):  # the scheme is case-insensitive
            return 401, _status(401, "Unauthorized", "Unauthorized")
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0", "platform": "linux/amd64"}
        if parts[:1] == ["api"]:
            group, rest = "", parts[1:]
        elif parts[:1] == ["apis"]:
            if len(parts) == 1:
                return self._discovery_groups()
            group, rest = parts[1], parts[2:]
        else:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            if group == "":
                return 200, {"kind": "APIVersions", "versions": ["v1"]}
            versions = self.served_versions(group)
            if not versions:
                return 404, _status(404, "NotFound", "the server could not find the requested resource")
            return 200, {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [
                {"groupVersion": f"{group}/{v}", "version": v} for v in versions]}
        version, rest = rest[0], rest[1:]
        resources = self.resources_in(group, version)
        if not resources:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return 200, {"kind": "APIResourceList", "groupVersion": f"{group}/{version}" if group else version,
                         "resources": [{"name": plural, "namespaced": ns, "kind": kind, "verbs": ["get", "list"]}
                                       for kind, plural, ns in resources]}
        namespace = None
        if rest[0] == "namespaces" and len(rest) == 3:
            namespace, rest = rest[1], rest[2:]
        if len(rest) != 1:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        plural = rest[0]
        match = [(k, p, n) for k, p, n in resources if p == plural]
        if not match:
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        kind, plural, namespaced = match[0]
        self._sleep(plural)
        if plural in self.forbid:
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            return 403, _status(403, "Forbidden", f'{plural}{"." + group if group else ""} is forbidden: User '
                                                  f'"system:serviceaccount:meshkb:reader" cannot list resource '
                                                  f'"{plural}" in API group "{group}" {scope}')
        return self._list(kind, group, version, plural, namespace, query)

    def _discovery_groups(self):
        if self.forbid_discovery:
            return 403, _status(403, "Forbidden", 'forbidden: User "reader" cannot get path "/apis"')
        groups = []
        for group in ["apps", "admissionregistration.k8s.io", ISTIO_NETWORKING, ISTIO_SECURITY]:
            versions = self.served_versions(group)
            if versions:
                groups.append({"name": group, "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                               "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]}})
        return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _sleep(self, plural: str) -> None:
        delay = self.delay.get(plural, 0) if isinstance(self.delay, dict) else self.delay
        if delay:
            time.sleep(delay)

    def _list(self, kind, group, version, plural, namespace, query):
        objs = [o for (ns, _), o in sorted(self.store[kind].items()) if namespace is None or ns == namespace]
        offset = 0
        token = query.get("continue")
        if token:
            if self.expire.get(plural, 0) > 0:
                self.expire[plural] -= 1
                return 410, _status(410, "Expired", "The provided continue parameter is too old to display a "
                                                    "consistent list result. You can start a new list without the "
                                                    "continue parameter.")
            offset = json.loads(base64.urlsafe_b64decode(token))["offset"]
        limit = int(query.get("limit") or 0) or len(objs)
        page = objs[offset:offset + limit]
        items = []
        api_version = f"{group}/{version}" if group else version
        for obj in page:
            item = copy.deepcopy(obj)
            if group in (ISTIO_NETWORKING, ISTIO_SECURITY):
                item["apiVersion"], item["kind"] = api_version, kind  # custom resources carry them
            else:
                item.pop("apiVersion", None), item.pop("kind", None)  # built-in lists leave them out
            items.append(item)
        metadata = {"resourceVersion": str(self.resource_version)}
        if offset + limit < len(objs):
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + limit}).encode()).decode()
            metadata["remainingItemCount"] = len(objs) - offset - limit
        return 200, {"kind": f"{kind}List", "apiVersion": api_version, "metadata": metadata, "items": items}


class _Handler(BaseHTTPRequestHandler):
    emulator: KubernetesEmulator

    def do_GET(self):  # noqa: N802 - http.server naming
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            code, body = self.emulator.handle(url.path, query, self.headers)
        except Exception as exc:  # pragma: no cover - surfaces emulator bugs in the test output
            code, body = 500, _status(500, "InternalError", repr(exc))
        data = json.dumps(body).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def log_message(self, *args):  # keep test output clean
        pass


def _self_signed(folder: Path) -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulated-apiserver")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "tls.crt", folder / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def k8s_emulator():
    """Factory fixture: ``emu = k8s_emulator(yaml_text, **faults)`` returns a started emulator."""
    started = []

    def make(text: str = "", **kw) -> KubernetesEmulator:
        emu = KubernetesEmulator.from_yaml(text, **kw).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()
