"""MKB-005: long-lived external TCP destinations without TCP keepalive."""

import copy

import pytest

from tests.scanner.support import docs_from_yaml, fixture_docs, round_trip, run

SEED = "seed5-long-connection-without-keepalive.yaml"


def seed():
    return copy.deepcopy(fixture_docs(SEED))


def by_kind(docs, kind):
    return next(d for d in docs if d["kind"] == kind)


def test_it_flags_the_tls_serviceentry_whose_destination_rule_has_no_keepalive():
    [f] = run(seed(), "MKB-005")
    assert str(f.resource) == "ServiceEntry app-a/baidu-https"
    assert [str(r) for r in f.related] == ["DestinationRule app-a/baidu-https"]
    assert f.evidence["hosts"] == ["www.baidu.com"]


def test_keepalive_in_the_destination_rule_silences_it():
    docs = seed()
    by_kind(docs, "DestinationRule")["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["tcpKeepalive"] = {"time": "600s"}
    assert run(docs, "MKB-005") == []


def test_keepalive_in_a_wildcard_rule_elsewhere_counts():
    docs = [d for d in seed() if d["kind"] != "DestinationRule"]
    docs += docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: all-baidu, namespace: platform}
        spec:
          host: "*.baidu.com"
          trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {time: 120s}}}}
    """)
    assert run(docs, "MKB-005") == []


def test_a_more_specific_rule_without_keepalive_shadows_the_wildcard():
    docs = seed() + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: all-baidu, namespace: platform}
        spec:
          host: "*.baidu.com"
          trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {time: 120s}}}}
    """)
    assert len(run(docs, "MKB-005")) == 1


def test_a_rule_exported_only_to_its_own_namespace_does_not_cover_others():
    docs = [d for d in seed() if d["kind"] != "DestinationRule"]
    docs += docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: baidu, namespace: other}
        spec:
          host: www.baidu.com
          exportTo: ["."]
          trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {time: 120s}}}}
    """)
    assert len(run(docs, "MKB-005")) == 1


def test_mesh_wide_keepalive_silences_it():
    docs = seed() + docs_from_yaml("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |
            tcpKeepalive:
              time: 180s
    """)
    assert run(docs, "MKB-005") == []


@pytest.mark.parametrize("protocol", ["HTTP", "HTTPS", "GRPC"])
def test_http_and_https_ports_are_not_reported(protocol):
    docs = seed()
    by_kind(docs, "ServiceEntry")["spec"]["ports"][0]["protocol"] = protocol
    assert run(docs, "MKB-005") == []


def test_mesh_internal_entries_are_not_reported():
    docs = seed()
    by_kind(docs, "ServiceEntry")["spec"]["location"] = "MESH_INTERNAL"
    assert run(docs, "MKB-005") == []


def test_the_fix_adds_keepalive_to_the_existing_rule_and_round_trips():
    docs = seed()
    [f] = run(docs, "MKB-005")
    [dr] = f.remediation.objects
    assert dr["metadata"]["name"] == "baidu-https"
    assert dr["spec"]["trafficPolicy"]["connectionPool"]["tcp"] == {
        "maxConnections": 100, "tcpKeepalive": {"time": "180s", "interval": "60s", "probes": 3}}
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_a_new_rule_keeps_the_settings_of_the_wildcard_rule_it_overrides():
    docs = [d for d in seed() if d["kind"] != "DestinationRule"] + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: all-baidu, namespace: platform}
        spec:
          host: "*.baidu.com"
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}, outlierDetection: {consecutive5xxErrors: 3}}
    """)
    [f] = run(docs, "MKB-005")
    [dr] = f.remediation.objects
    assert dr["metadata"] == {"name": "baidu-https-keepalive", "namespace": "app-a"}
    assert dr["spec"]["host"] == "www.baidu.com"
    assert dr["spec"]["trafficPolicy"]["loadBalancer"] == {"simple": "LEAST_REQUEST"}
    assert dr["spec"]["trafficPolicy"]["outlierDetection"] == {"consecutive5xxErrors": 3}
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before
