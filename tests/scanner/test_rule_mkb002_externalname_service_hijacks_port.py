"""MKB-002: an ExternalName Service port becomes a catch-all listener on old Istio."""

import copy

import pytest

from tests.scanner.support import fixture_docs, round_trip, run

SEED = "seed2-externalname-hijacks-port.yaml"


def seed(version="1.11.4", env=None):
    docs = copy.deepcopy(fixture_docs(SEED))
    istiod = next(d for d in docs if d["kind"] == "Deployment")
    container = istiod["spec"]["template"]["spec"]["containers"][0]
    container["image"] = f"docker.io/istio/pilot:{version}"
    for name, value in (env or {}).items():
        container["env"].append({"name": name, "value": value})
    return docs


def service(docs):
    return next(d for d in docs if d["kind"] == "Service")


def test_it_flags_the_unnamed_443_port_on_istio_1_11():
    [finding] = run(seed(), "MKB-002")
    assert str(finding.resource) == "Service default/my-externalname"
    assert finding.severity == "error"
    assert "0.0.0.0:443" in finding.message and "bing.com" in finding.message
    assert finding.evidence["ports"][0] == {"port": 443, "name": None, "appProtocol": None, "istio_protocol": "UnsupportedProtocol"}


@pytest.mark.parametrize("version", ["1.24.0", "1.26.2", "1.21.1"])
def test_modern_istio_is_silent(version):
    assert run(seed(version), "MKB-002") == []


def test_1_22_with_the_alias_turned_off_is_reported_and_the_fix_turns_it_on():
    [finding] = run(seed("1.22.3", {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}), "MKB-002")
    assert "kubectl -n istio-system set env deployment/istiod ENABLE_EXTERNAL_NAME_ALIAS=true" in finding.remediation.commands


def test_1_24_ignores_the_removed_flag():
    assert run(seed("1.24.1", {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}), "MKB-002") == []


@pytest.mark.parametrize("name", ["https", "tls", "http", "https-bing"])
def test_ports_named_after_a_protocol_are_not_reported(name):
    docs = seed()
    service(docs)["spec"]["ports"][0]["name"] = name
    assert run(docs, "MKB-002") == []


@pytest.mark.parametrize("name", ["tcp", "bing", "mysql"])
def test_tcp_and_meaningless_names_are_reported(name):
    docs = seed()
    service(docs)["spec"]["ports"][0]["name"] = name
    assert len(run(docs, "MKB-002")) == 1


def test_an_unknown_istio_version_counts_as_affected_with_a_warning():
    docs = [d for d in seed() if d["kind"] != "Deployment"]
    [finding] = run(docs, "MKB-002")
    assert finding.severity == "warning"
    assert "unknown" in finding.message


def test_the_corrected_service_round_trips():
    docs = seed()
    [finding] = run(docs, "MKB-002")
    [svc] = finding.remediation.objects
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP"}]
    before, after = round_trip(docs, finding)
    assert finding.fingerprint not in after and set(after) <= before


def test_a_port_it_cannot_name_gets_a_marked_placeholder():
    docs = seed()
    service(docs)["spec"]["ports"][0]["port"] = 5000
    [finding] = run(docs, "MKB-002")
    assert finding.remediation.placeholders and "FILL-IN" in finding.remediation.yaml
