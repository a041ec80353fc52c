"""MKB-104: a Gateway host that no VirtualService routes."""

from tests.scanner.support import docs_from_yaml, run

BASE = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com, blog.example.com]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: edge}
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http: [{route: [{destination: {host: frontend.shop.svc.cluster.local}}]}]
"""


def test_a_host_without_any_virtualservice_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-104")
    assert str(f.resource) == "Gateway edge/public"
    assert f.evidence["host"] == "blog.example.com"
    assert "404" in f.message
    assert f.remediation.placeholders and f.remediation.objects[0]["spec"]["hosts"] == ["blog.example.com"]


def test_a_wildcard_virtualservice_host_covers_it():
    docs = docs_from_yaml(BASE.replace("hosts: [shop.example.com]\n  gateways", 'hosts: ["*.example.com"]\n  gateways'))
    assert run(docs, "MKB-104") == []


def test_a_virtualservice_bound_to_another_gateway_does_not_count():
    docs = docs_from_yaml(BASE) + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: blog, namespace: edge}
        spec:
          hosts: [blog.example.com]
          gateways: [internal]
          http: [{route: [{destination: {host: blog}}]}]
    """)
    assert len(run(docs, "MKB-104")) == 1


def test_passthrough_servers_need_no_http_routes():
    docs = docs_from_yaml(BASE.replace("{number: 80, name: http, protocol: HTTP}",
                                       "{number: 443, name: tls, protocol: TLS}\n    tls: {mode: PASSTHROUGH}"))
    assert run(docs, "MKB-104") == []


def test_nothing_is_said_when_no_virtualservices_were_collected():
    docs = [d for d in docs_from_yaml(BASE) if d["kind"] == "Gateway"]
    assert run(docs, "MKB-104") == []
