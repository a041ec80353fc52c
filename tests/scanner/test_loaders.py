"""Loading snapshots from kubectl output, manifests, directories and stdin."""

import io
import json

import pytest

from troubleshooting.scanner import LoadError, load_paths

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "shop"},
       "spec": {"containers": [{"name": "app"}]}}
GATEWAY = """apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: edge}
spec: {selector: {istio: ingressgateway}, servers: []}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return str(path)


def test_kubectl_json_list_output_is_loaded(tmp_path):
    doc = {"apiVersion": "v1", "kind": "List", "items": [POD, {**POD, "metadata": {"name": "p2", "namespace": "shop"}}]}
    snap = load_paths([write(tmp_path, "pods.json", json.dumps(doc))])
    assert snap.scanned == {"Pod": 2}


def test_typed_lists_give_their_items_kind_and_api_version(tmp_path):
    doc = {"apiVersion": "v1", "kind": "PodList", "items": [{"metadata": {"name": "p1", "namespace": "a"}, "spec": {}}]}
    snap = load_paths([write(tmp_path, "podlist.json", json.dumps(doc))])
    assert [p.name for p in snap.of_kind("Pod")] == ["p1"]


def test_nested_lists_and_multi_document_yaml_are_flattened(tmp_path):
    text = GATEWAY + "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n" \
                     "  - {apiVersion: v1, kind: Namespace, metadata: {name: edge}}\n"
    snap = load_paths([write(tmp_path, "all.yaml", text)])
    assert snap.scanned == {"Gateway": 1, "Namespace": 1}


def test_concatenated_json_documents_and_bare_arrays_are_loaded(tmp_path):
    text = json.dumps(POD) + "\n" + json.dumps([{**POD, "metadata": {"name": "p2", "namespace": "shop"}}])
    assert load_paths([write(tmp_path, "two.json", text)]).scanned == {"Pod": 2}


def test_directories_are_read_recursively_and_other_files_skipped(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    write(tmp_path / "a", "gw.yaml", GATEWAY)
    write(tmp_path / "a" / "b", "pod.json", json.dumps(POD))
    write(tmp_path / "a", "README.md", "# not a manifest")
    write(tmp_path / "a", ".hidden.yaml", "::: not yaml")
    snap = load_paths([str(tmp_path / "a")])
    assert snap.scanned == {"Gateway": 1, "Pod": 1}


def test_stdin_and_several_files_form_one_snapshot(tmp_path):
    snap = load_paths([write(tmp_path, "gw.yaml", GATEWAY), "-"], stdin=io.BytesIO(json.dumps(POD).encode()))
    assert snap.scanned == {"Gateway": 1, "Pod": 1}
    assert snap.source.endswith("gw.yaml, stdin")


def test_objects_without_namespace_land_in_default(tmp_path):
    snap = load_paths([write(tmp_path, "svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {}\n")])
    assert snap.get("Service", "default", "web") is not None


def test_istio_kinds_in_every_api_version_are_read_but_gateway_api_gateways_are_not(tmp_path):
    text = "\n---\n".join([
        GATEWAY.replace("v1beta1", "v1alpha3").replace("name: gw", "name: old"),
        GATEWAY.replace("v1beta1", "v1").replace("name: gw", "name: new"),
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: k8s, namespace: edge}\nspec: {}",
    ])
    snap = load_paths([write(tmp_path, "gw.yaml", text)])
    assert sorted(g.name for g in snap.of_kind("Gateway")) == ["new", "old"]
    assert "Gateway (gateway.networking.k8s.io) (1)" in snap.warnings[-1]


def test_unknown_kinds_are_counted_and_ignored(tmp_path):
    text = GATEWAY + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: edge}\ndata: {k: dg==}\n"
    snap = load_paths([write(tmp_path, "x.yaml", text)])
    assert snap.scanned == {"Gateway": 1}
    assert snap.warnings == ["ignored 1 objects of kinds the scanner does not read: Secret (1)"]


def test_unquoted_yaml_timestamps_are_normalised(tmp_path):
    text = GATEWAY.replace("namespace: edge}", "namespace: edge, creationTimestamp: 2021-11-29T06:59:26Z}")
    [gw] = load_paths([write(tmp_path, "gw.yaml", text)]).of_kind("Gateway")
    assert gw.created == "2021-11-29T06:59:26Z"


def test_objects_are_slimmed_to_what_detectors_read(tmp_path):
    pod = {**POD, "metadata": {**POD["metadata"], "managedFields": [{"x": "y" * 1000}],
                               "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}",
                                               "proxy.istio.io/config": "concurrency: 2"}}}
    [p] = load_paths([write(tmp_path, "p.json", json.dumps(pod))]).of_kind("Pod")
    assert p.annotations == {"proxy.istio.io/config": "concurrency: 2"}
    assert not hasattr(p, "managedFields") and "managedFields" not in p.spec


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(LoadError, match="no such file or directory"):
        load_paths([str(tmp_path / "nope.yaml")])


KUBECTL_YAML = """apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: shop
    creationTimestamp: "2024-05-01T10:00:00Z"
  spec:
    ports:
    - name: http
      port: 80
# a comment at column 0 between items
- apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata:
    name: public
    namespace: edge
  spec:
    selector:
      istio: ingressgateway
    servers:
    - hosts:
      - '*.example.com'
      port: {number: 80, name: http, protocol: HTTP}
- apiVersion: v1
  kind: List
  items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: nested}}
kind: List
metadata:
  resourceVersion: ""
"""


def _objects(snap):
    return sorted((o.key, repr(o.spec), o.created) for o in snap.all_objects())


def test_kubectl_yaml_lists_are_parsed_item_by_item_with_the_same_result(tmp_path, monkeypatch):
    from troubleshooting.scanner import loaders

    path = write(tmp_path, "kubectl.yaml", KUBECTL_YAML)
    assert loaders._split_list(KUBECTL_YAML.encode()) is not None
    fast = load_paths([path])
    monkeypatch.setattr(loaders, "_split_list", lambda data: None)
    whole = load_paths([path])
    assert _objects(fast) == _objects(whole)
    assert fast.scanned == {"Gateway": 1, "Namespace": 1, "Service": 1}


def test_typed_yaml_lists_give_items_their_kind_on_the_item_by_item_path(tmp_path):
    text = ("apiVersion: v1\nitems:\n- metadata: {name: a, namespace: x}\n  spec: {}\n"
            "- metadata: {name: b, namespace: x}\n  spec: {}\nkind: ServiceList\nmetadata: {}\n")
    assert load_paths([write(tmp_path, "svcs.yaml", text)]).scanned == {"Service": 2}


def test_yaml_the_item_splitter_cannot_cut_safely_is_parsed_whole(tmp_path):
    # a double-quoted scalar continued at column 0 is valid YAML but defeats the column-0 split
    text = ('apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: x, annotations: '
            '{note: "first line\nsecond line"}}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b, namespace: x}\n'
            'kind: List\n')
    snap = load_paths([write(tmp_path, "odd.yaml", text)])
    assert snap.scanned == {"Service": 2}


def test_kubectl_json_lists_are_parsed_item_by_item_with_the_same_result(tmp_path, monkeypatch):
    from troubleshooting.scanner import loaders

    docs = [POD, {"apiVersion": "v1", "kind": "List", "items": [{**POD, "metadata": {"name": "p2", "namespace": "x"}}]},
            {"metadata": {"name": "svc", "namespace": "x"}, "spec": {"ports": [{"port": 80, "name": "http"}]}},
            "not an object", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}]
    # kubectl's key order: the List's kind comes after its items, so kind-less items wait for it
    text = json.dumps({"apiVersion": "v1", "items": docs, "kind": "ServiceList", "metadata": {}}, indent=4)
    path = write(tmp_path, "kubectl.json", text)
    calls = []
    original = loaders._load_json_list_items
    monkeypatch.setattr(loaders, "_load_json_list_items", lambda *a: calls.append(original(*a)) or calls[-1])
    fast = load_paths([path])
    monkeypatch.setattr(loaders, "_load_json_list_items", lambda *a: None)
    whole = load_paths([path])

    assert calls == [4] and _objects(fast) == _objects(whole)  # 2 Pods, a Service and the ignored Widget
    assert fast.scanned == whole.scanned == {"Pod": 2, "Service": 1}
    assert fast.warnings == whole.warnings


@pytest.mark.parametrize("text", [
    '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a}}]}',  # unclosed string
    '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}]',  # cut short
    '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}} {"kind": "Pod"}]}',
])
def test_broken_json_lists_get_the_parsers_message_not_a_half_loaded_snapshot(tmp_path, text):
    with pytest.raises(LoadError, match=r"not valid JSON: .* \(line 1, column \d+\)$"):
        load_paths([write(tmp_path, "broken.json", text)])
