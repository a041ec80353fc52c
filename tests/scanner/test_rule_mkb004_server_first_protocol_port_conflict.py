"""MKB-004: HTTP declared on a port that server-first protocols use."""

import copy

from tests.scanner.support import docs_from_yaml, fixture_docs, round_trip, run

SEED = "seed4-server-first-port-conflict.yaml"


def seed():
    return copy.deepcopy(fixture_docs(SEED))


def by_name(docs, name):
    return next(d for d in docs if d["metadata"]["name"] == name)


def test_it_flags_the_http_service_on_the_mysql_serviceentry_port():
    findings = {str(f.resource): f for f in run(seed(), "MKB-004")}
    f = findings["Service default/irrelevant-svc"]
    assert f.severity == "error"
    assert [str(r) for r in f.related] == ["ServiceEntry default/mysql-2"]
    assert "0.0.0.0:10000" in f.message


def test_it_flags_http_by_app_protocol_on_the_well_known_mysql_port():
    findings = {str(f.resource): f for f in run(seed(), "MKB-004")}
    f = findings["Service tools/admin-ui"]
    assert f.evidence["well_known_server_first"] == "MySQL"
    assert f.evidence["declared"] == "appProtocol 'http' → HTTP"


def test_a_port_named_tcp_is_fine():
    docs = seed()
    by_name(docs, "irrelevant-svc")["spec"]["ports"][0]["name"] = "tcp"
    by_name(docs, "admin-ui")["spec"]["ports"][0]["appProtocol"] = "tcp"
    assert run(docs, "MKB-004") == []


def test_a_server_first_serviceentry_with_its_own_addresses_is_not_a_victim():
    docs = seed()
    by_name(docs, "mysql-2")["spec"]["addresses"] = ["55.108.108.2/32"]
    assert [str(f.resource) for f in run(docs, "MKB-004")] == ["Service tools/admin-ui"]


def test_an_http_port_elsewhere_is_fine():
    docs = seed()
    by_name(docs, "irrelevant-svc")["spec"]["ports"][0]["port"] = 10001
    by_name(docs, "admin-ui")["spec"]["ports"][0]["port"] = 8080
    assert run(docs, "MKB-004") == []


def test_plain_tcp_evidence_is_only_a_warning():
    docs = seed()
    by_name(docs, "mysql-2")["spec"]["ports"][0]["protocol"] = "TCP"
    findings = {str(f.resource): f for f in run(docs, "MKB-004")}
    assert findings["Service default/irrelevant-svc"].severity == "warning"


def test_a_serviceentry_declaring_http_on_smtp_is_reported():
    docs = docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: mail-api, namespace: ops}
        spec:
          hosts: [mail.example.com]
          addresses: [203.0.113.10/32]
          ports: [{number: 25, name: http, protocol: HTTP}]
    """)
    [f] = run(docs, "MKB-004")
    assert str(f.resource) == "ServiceEntry ops/mail-api"
    assert f.remediation.objects[0]["spec"]["ports"][0]["protocol"] == "TCP"


def test_the_json_patch_renames_the_port_and_round_trips():
    docs = seed()
    for finding in run(docs, "MKB-004"):
        [patch] = finding.remediation.patches
        assert patch.type == "json"
        before, after = round_trip(docs, finding)
        assert finding.fingerprint not in after and set(after) <= before
