"""MKB-003: two Gateways declare the same host on one TLS port; istiod drops the later server whole."""

import copy

from tests.scanner.support import docs_from_yaml, fixture_docs, round_trip, run

SEED = "seed3-gateway-duplicate-tls-host.yaml"


def seed():
    return fixture_docs(SEED)


def edit(docs, kind, name, fn):
    docs = copy.deepcopy(docs)
    for d in docs:
        if d["kind"] == kind and d["metadata"]["name"] == name:
            fn(d)
    return docs


def servers(doc):
    return doc["spec"]["servers"]


def test_it_names_the_gateway_istiod_drops():
    [finding] = run(seed(), "MKB-003")
    assert str(finding.resource) == "Gateway default/test2"
    assert [str(r) for r in finding.related][:1] == ["Gateway default/test1"]
    assert finding.severity == "error"
    assert finding.evidence["istiod_log"] == (
        "skipping server on gateway default/test2, duplicate host names: [test1.example.com]")
    assert finding.documentation_url.endswith("/articles/gateway-duplicate-tls-host/")


def test_it_lists_every_host_that_becomes_unreachable_including_the_one_never_duplicated():
    [finding] = run(seed(), "MKB-003")
    assert finding.evidence["unreachable_hosts"] == ["test2.example.com"]
    assert finding.evidence["duplicate_hosts"] == ["test1.example.com"]
    assert "test2.example.com was never duplicated" in finding.message
    assert finding.evidence["port"] == 443 and finding.evidence["listener_port"] == 8443


def test_the_older_gateway_wins_even_when_its_name_sorts_later():
    docs = edit(seed(), "Gateway", "test1", lambda d: d["metadata"].update(creationTimestamp="2021-11-29T07:00:00Z"))
    [finding] = run(docs, "MKB-003")
    assert str(finding.resource) == "Gateway default/test1"
    assert finding.evidence["unreachable_hosts"] == []


def test_equal_timestamps_fall_back_to_name_order():
    docs = edit(seed(), "Gateway", "test2", lambda d: d["metadata"].update(creationTimestamp="2021-11-29T06:50:00Z"))
    [finding] = run(docs, "MKB-003")
    assert finding.resource.name == "test2"


def _to_http(d):
    for s in servers(d):
        s["port"] = {"name": "http", "number": 80, "protocol": "HTTP"}
        s.pop("tls")


def test_plain_http_servers_sharing_a_host_are_merged_not_reported():
    docs = edit(edit(seed(), "Gateway", "test1", _to_http), "Gateway", "test2", _to_http)
    assert run(docs, "MKB-003") == []
    assert run(docs, "MKB-101") == []


def test_servers_on_different_ports_do_not_collide():
    docs = edit(seed(), "Gateway", "test2", lambda d: servers(d)[0]["port"].update(number=9443, name="https-alt"))
    assert run(docs, "MKB-003") == []


def test_gateways_on_other_gateway_workloads_do_not_collide():
    def other(d):
        d["spec"]["selector"] = {"istio": "internal-gateway"}
    docs = edit(seed(), "Gateway", "test2", other)
    docs += docs_from_yaml("""
        apiVersion: v1
        kind: Pod
        metadata: {name: internal-gw-1, namespace: istio-system, labels: {istio: internal-gateway}}
        spec: {containers: [{name: istio-proxy, args: [proxy, router]}]}
    """)
    assert run(docs, "MKB-003") == []


def test_different_selectors_that_select_the_same_pods_still_collide():
    docs = edit(seed(), "Gateway", "test2", lambda d: d["spec"].update(selector={"app": "istio-ingressgateway"}))
    [finding] = run(docs, "MKB-003")
    assert finding.resource.name == "test2"


def test_without_pods_gateways_with_the_same_selector_still_collide():
    docs = [d for d in seed() if d["kind"] != "Pod"]
    [finding] = run(docs, "MKB-003")
    assert finding.resource.name == "test2"
    assert "no pod of it in the snapshot" in finding.evidence["gateway_workloads"][0]


def test_servers_bound_to_different_addresses_do_not_collide():
    docs = edit(seed(), "Gateway", "test2", lambda d: servers(d)[0].update(bind="10.0.0.2"))
    assert run(docs, "MKB-003") == []


def test_an_http_server_with_https_redirect_is_checked_like_istiod_does():
    def redirect(d):
        servers(d)[0].update(port={"name": "http", "number": 80, "protocol": "HTTP"}, tls={"httpsRedirect": True})
    docs = edit(edit(seed(), "Gateway", "test1", redirect), "Gateway", "test2", redirect)
    [finding] = run(docs, "MKB-003")
    assert finding.resource.name == "test2"


def test_the_fix_moves_the_hosts_into_one_server_and_round_trips():
    docs = seed()
    [finding] = run(docs, "MKB-003")
    rem = finding.remediation
    assert [str(r) for r in rem.deletes] == ["Gateway default/test2"]
    gw = next(o for o in rem.objects if o["kind"] == "Gateway")
    assert gw["metadata"]["name"] == "test1"
    assert gw["spec"]["servers"][0]["hosts"] == ["test1.example.com", "test2.example.com"]
    vs = next(o for o in rem.objects if o["kind"] == "VirtualService")
    assert vs["metadata"]["name"] == "test2" and vs["spec"]["gateways"] == ["test1"]
    before, after = round_trip(docs, finding)
    assert finding.fingerprint not in after
    assert set(after) <= before, [f.message for f in after.values()]


def test_with_different_certificates_the_fix_removes_only_the_duplicate_host():
    docs = edit(seed(), "Gateway", "test2", lambda d: servers(d)[0]["tls"].update(credentialName="test2-credential"))
    [finding] = run(docs, "MKB-003")
    [gw] = finding.remediation.objects
    assert gw["metadata"]["name"] == "test2"
    assert gw["spec"]["servers"][0]["hosts"] == ["test2.example.com"]
    before, after = round_trip(docs, finding)
    assert finding.fingerprint not in after and set(after) <= before
