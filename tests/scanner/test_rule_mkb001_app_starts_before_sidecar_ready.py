"""MKB-001: application containers fail at start-up while holdApplicationUntilProxyStarts is off."""

import copy

from tests.scanner.support import docs_from_yaml, fixture_docs, round_trip, run

SEED = "seed1-app-starts-before-sidecar-ready.yaml"


def seed():
    return fixture_docs(SEED)


def pods(docs):
    return [d for d in docs if d["kind"] == "Pod"]


def test_it_reports_the_owning_deployment_once_not_each_pod():
    [finding] = run(seed(), "MKB-001")
    assert str(finding.resource) == "Deployment shop/orders"
    assert sorted(r.name for r in finding.related) == ["orders-7d4b9c6f8d-4xk2p", "orders-7d4b9c6f8d-9mzq7"]
    assert finding.evidence["failures"][0]["secondsAfterPodStart"] == 3
    assert "ConfigMap istio-system/istio" in finding.message


def test_a_pod_stuck_in_crashloop_makes_it_an_error():
    assert run(seed(), "MKB-001")[0].severity == "error"
    docs = [d for d in seed() if d["metadata"]["name"] != "orders-7d4b9c6f8d-9mzq7"]
    assert run(docs, "MKB-001")[0].severity == "warning"


def test_pods_without_a_sidecar_are_not_reported():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        pod["spec"]["containers"] = [c for c in pod["spec"]["containers"] if c["name"] != "istio-proxy"]
    assert run(docs, "MKB-001") == []


def test_hold_in_the_pod_annotation_silences_it():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        pod["metadata"].setdefault("annotations", {})["proxy.istio.io/config"] = '{"holdApplicationUntilProxyStarts": true}'
    assert run(docs, "MKB-001") == []


def test_hold_in_the_mesh_default_config_silences_it():
    docs = copy.deepcopy(seed())
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    cm["data"]["mesh"] = "defaultConfig:\n  holdApplicationUntilProxyStarts: true\n"
    assert run(docs, "MKB-001") == []


def test_only_the_mesh_config_of_the_pods_revision_counts():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        pod["metadata"]["labels"]["istio.io/rev"] = "canary"
    docs += docs_from_yaml("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio-canary, namespace: istio-system}
        data:
          mesh: |
            defaultConfig:
              holdApplicationUntilProxyStarts: true
    """)
    assert run(docs, "MKB-001") == []
    for pod in pods(docs):
        pod["metadata"]["labels"]["istio.io/rev"] = "stable"
    assert len(run(docs, "MKB-001")) == 1


def test_the_injected_wait_hook_counts_as_hold():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        proxy = next(c for c in pod["spec"]["containers"] if c["name"] == "istio-proxy")
        proxy["lifecycle"] = {"postStart": {"exec": {"command": ["pilot-agent", "wait"]}}}
    assert run(docs, "MKB-001") == []


def test_native_sidecars_are_not_reported():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        pod["spec"]["containers"] = [c for c in pod["spec"]["containers"] if c["name"] != "istio-proxy"]
        pod["spec"]["initContainers"] = [{"name": "istio-proxy", "image": "istio/proxyv2:1.27.0", "restartPolicy": "Always"}]
    assert run(docs, "MKB-001") == []


def test_a_crash_long_after_start_up_is_not_reported():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        app = next(s for s in pod["status"]["containerStatuses"] if s["name"] == "orders")
        app["lastState"]["terminated"]["finishedAt"] = "2021-11-29T09:30:00Z"
    assert run(docs, "MKB-001") == []


def test_a_clean_exit_is_not_reported():
    docs = copy.deepcopy(seed())
    for pod in pods(docs):
        app = next(s for s in pod["status"]["containerStatuses"] if s["name"] == "orders")
        app["lastState"]["terminated"]["exitCode"] = 0
    assert run(docs, "MKB-001") == []


def test_the_patch_keeps_settings_already_in_the_template_annotation():
    docs = copy.deepcopy(seed())
    dep = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "orders")
    dep["spec"]["template"]["metadata"]["annotations"] = {"proxy.istio.io/config": "concurrency: 2\n"}
    [finding] = run(docs, "MKB-001")
    [patch] = finding.remediation.patches
    value = patch.body["spec"]["template"]["metadata"]["annotations"]["proxy.istio.io/config"]
    assert value == "concurrency: 2\nholdApplicationUntilProxyStarts: true\n"
    assert patch.command().startswith("kubectl patch deployment orders -n shop --type merge -p ")


def test_the_patch_round_trips():
    docs = seed()
    [finding] = run(docs, "MKB-001")
    before, after = round_trip(docs, finding)
    assert finding.fingerprint not in after and set(after) <= before
