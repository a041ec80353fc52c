"""MKB-108: a TCP ServiceEntry without addresses binds 0.0.0.0:<port>."""

from tests.scanner.support import docs_from_yaml, round_trip, run

BASE = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy-db, namespace: data}
spec:
  hosts: [db.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 5432, name: tcp-postgres, protocol: TCP}]
  endpoints: [{address: 203.0.113.7}]
"""


def test_a_tcp_port_without_addresses_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-108")
    assert str(f.resource) == "ServiceEntry data/legacy-db"
    assert "0.0.0.0:5432" in f.message


def test_addresses_or_auto_allocation_silence_it():
    assert run(docs_from_yaml(BASE.replace("resolution: STATIC", "resolution: STATIC\n  addresses: [203.0.113.7/32]")), "MKB-108") == []
    docs = docs_from_yaml(BASE) + docs_from_yaml("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |
            defaultConfig:
              proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true", ISTIO_META_DNS_AUTO_ALLOCATE: "true"}
    """)
    assert run(docs, "MKB-108") == []


def test_http_and_tls_ports_are_fine():
    assert run(docs_from_yaml(BASE.replace("protocol: TCP", "protocol: TLS")), "MKB-108") == []
    assert run(docs_from_yaml(BASE.replace("protocol: TCP", "protocol: HTTP")), "MKB-108") == []


def test_the_fix_uses_the_endpoint_address_and_round_trips():
    docs = docs_from_yaml(BASE)
    [f] = run(docs, "MKB-108")
    assert f.remediation.objects[0]["spec"]["addresses"] == ["203.0.113.7/32"]
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_port_443_is_declared_tls_by_the_fix():
    docs = docs_from_yaml(BASE.replace("5432, name: tcp-postgres", "443, name: tcp").replace("resolution: STATIC", "resolution: DNS")
                          .replace("  endpoints: [{address: 203.0.113.7}]\n", ""))
    [f] = run(docs, "MKB-108")
    assert f.remediation.objects[0]["spec"]["ports"][0]["protocol"] == "TLS"
    assert "addresses" not in f.remediation.objects[0]["spec"]
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_without_endpoints_the_address_is_a_marked_placeholder():
    docs = docs_from_yaml(BASE.replace("  endpoints: [{address: 203.0.113.7}]\n", "").replace("STATIC", "DNS"))
    [f] = run(docs, "MKB-108")
    assert f.remediation.placeholders == ["<FILL-IN: the IP address or CIDR of db.example.com>"]
