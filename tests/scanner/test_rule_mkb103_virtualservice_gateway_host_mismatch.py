"""MKB-103: VirtualService bound to a missing Gateway or to one that does not declare its hosts."""

from tests.scanner.support import docs_from_yaml, round_trip, run

BASE = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop/shop.example.com", "*/status.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: frontend}}]}]
"""
MISSING_GATEWAY = BASE.replace("gateways: [edge/public]", "gateways: [public]")
FOREIGN_HOST = BASE.replace("hosts: [shop.example.com]", "hosts: [shop.example.org]")


def test_a_matching_host_in_an_allowed_namespace_is_fine():
    assert run(docs_from_yaml(BASE), "MKB-103") == []


def test_a_host_the_gateway_does_not_declare_is_reported():
    docs = docs_from_yaml(BASE.replace("hosts: [shop.example.com]", "hosts: [shop.example.org]"))
    [f] = run(docs, "MKB-103")
    assert str(f.resource) == "VirtualService shop/shop"
    assert f.evidence["hosts_not_in_gateway"] == ["shop.example.org"]


def test_the_gateways_namespace_restriction_applies():
    docs = docs_from_yaml(BASE.replace("namespace: shop}", "namespace: other}"))
    assert len(run(docs, "MKB-103")) == 1


def test_a_missing_gateway_is_an_error_and_points_at_the_one_in_another_namespace():
    docs = docs_from_yaml(MISSING_GATEWAY)
    [f] = run(docs, "MKB-103")
    assert f.severity == "error"
    assert "Gateway shop/public" in f.message
    [vs] = f.remediation.objects
    assert vs["spec"]["gateways"] == ["edge/public"]
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_the_mesh_gateway_is_not_a_reference():
    docs = docs_from_yaml(BASE.replace("gateways: [edge/public]", "gateways: [mesh, edge/public]"))
    assert run(docs, "MKB-103") == []


def test_the_host_fix_adds_the_host_to_the_gateway_and_round_trips():
    docs = docs_from_yaml(FOREIGN_HOST)
    [f] = run(docs, "MKB-103")
    [gw] = f.remediation.objects
    assert gw["spec"]["servers"][0]["hosts"][-1] == "shop/shop.example.org"
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_like_ist0132_one_host_in_common_is_enough():
    docs = docs_from_yaml(BASE.replace("hosts: [shop.example.com]", "hosts: [shop.example.com, shop.example.org]"))
    assert run(docs, "MKB-103") == []
