"""MKB-111: external port 443 declared HTTP without TLS origination."""

from tests.scanner.support import docs_from_yaml, round_trip, run

BASE = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: github, namespace: ci}
spec:
  hosts: [api.github.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: http, protocol: HTTP}]
"""


def test_http_on_443_without_origination_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-111")
    assert str(f.resource) == "ServiceEntry ci/github"
    assert "wrong version number" in f.message


def test_tls_origination_makes_it_the_documented_pattern():
    docs = docs_from_yaml(BASE) + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: github, namespace: ci}
        spec: {host: api.github.com, trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: SIMPLE}}]}}
    """)
    assert run(docs, "MKB-111") == []


def test_https_or_other_ports_are_fine():
    assert run(docs_from_yaml(BASE.replace("protocol: HTTP", "protocol: HTTPS")), "MKB-111") == []
    assert run(docs_from_yaml(BASE.replace("number: 443", "number: 80")), "MKB-111") == []


def test_the_fix_declares_https_and_round_trips():
    docs = docs_from_yaml(BASE)
    [f] = run(docs, "MKB-111")
    assert f.remediation.objects[0]["spec"]["ports"] == [{"number": 443, "name": "https", "protocol": "HTTPS"}]
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before
