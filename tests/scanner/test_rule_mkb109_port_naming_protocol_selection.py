"""MKB-109: Service ports that do not declare a protocol (IST0118)."""

from tests.scanner.support import docs_from_yaml, run

BASE = """
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
  - {port: 8080, targetPort: 8080}
  - {name: metrics, port: 9090}
  - {name: grpc-api, port: 9000}
  - {name: web, port: 8081, appProtocol: http}
  - {name: dns, port: 53, protocol: UDP}
  - {port: 3306}
"""


def test_unnamed_and_meaningless_port_names_are_reported_once_per_service():
    [f] = run(docs_from_yaml(BASE), "MKB-109")
    assert f.severity == "info"
    assert [p["port"] for p in f.evidence["ports"]] == [8080, 9090]
    [patch] = f.remediation.patches
    assert patch.type == "json" and [op["path"] for op in patch.body] == ["/spec/ports/0/name", "/spec/ports/1/name"]


def test_system_namespaces_and_control_plane_services_are_skipped():
    assert run(docs_from_yaml(BASE.replace("namespace: shop", "namespace: kube-system")), "MKB-109") == []
    assert run(docs_from_yaml(BASE.replace("namespace: shop}", "namespace: istio-system, labels: {istio: pilot}}")), "MKB-109") == []
