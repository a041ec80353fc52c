"""Bad input: a clear one-line error or a counted warning, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from troubleshooting.scanner import LoadError, load_paths
from troubleshooting.scanner import loaders

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


@pytest.mark.parametrize("name, data, message", [
    ("broken.yaml", "kind: Pod\nmetadata: {name: [unclosed\n", "not valid YAML: .*line"),
    ("broken.json", '{"kind": "Pod", "metadata": {"name": "x",}', "not valid JSON: .*line 1"),
    ("binary.yaml", bytes(range(256)) * 4, "binary data"),
    ("scalars.yaml", "- just\n- a list\n", "no Kubernetes objects"),
    ("prose.txt", "Hello, this is not a manifest.\n", "no Kubernetes objects"),
    ("nokind.yaml", "apiVersion: v1\nmetadata: {name: x}\n", "no Kubernetes objects"),
    ("empty.yaml", "\n\n   \n", "empty input"),
    ("latin1.yaml", "kind: Pod\nmetadata: {name: caf\xe9}\n".encode("latin-1"), "not valid YAML"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_unusable_input_is_one_clear_line_naming_the_file(tmp_path, name, data, message):
    path = write(tmp_path, name, data)
    with pytest.raises(LoadError, match=message) as err:
        load_paths([path])
    assert str(err.value).startswith(path) and "\n" not in str(err.value)


def test_objects_with_missing_fields_or_wrong_types_are_counted_warnings(tmp_path):
    docs = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "a"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": "oops"},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": ["a"]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "t"}, "spec": {"ports": [{"port": "http"}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "g"}, "spec": {"servers": "x"}},
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "d"}, "spec": {}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok", "namespace": "a"}, "spec": {"containers": []}},
    ]
    snap = load_paths([write(tmp_path, "mixed.json", json.dumps({"kind": "List", "items": docs}))])
    assert snap.scanned == {"Pod": 1}
    [warning] = snap.warnings
    assert warning.startswith("6 × skipped malformed objects: Pod: metadata.name is missing; Pod: metadata is missing;")


def test_every_detector_survives_wrong_types_deep_inside_objects(tmp_path):
    from troubleshooting.scanner import scan

    docs = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a", "labels": {"app": 1}},
         "spec": {"containers": [{"name": "istio-proxy", "args": "router", "lifecycle": {"postStart": []}}]},
         "status": {"phase": 3, "containerStatuses": ["x", {"name": "app", "lastState": "y", "restartCount": "2"}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "v", "namespace": "a"},
         "spec": {"hosts": ["a"], "gateways": ["missing"], "http": [{"route": [{"destination": {"host": 5, "subset": "x"}}]}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "s", "namespace": "a"},
         "spec": {"hosts": ["x.example.com"], "ports": [{"number": 443, "protocol": 7}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
         "data": {"mesh": "defaultConfig: [1, 2"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"},
         "data": {"root-cert.pem": 12}},
    ]
    report = scan(load_paths([write(tmp_path, "odd.json", json.dumps({"kind": "List", "items": docs}))]))
    assert all("could not run" not in w for w in report.warnings), report.warnings


def test_authorization_policies_with_wrong_types_in_their_rules_are_skipped_with_a_warning(tmp_path):
    bad = [{"rules": "x"}, {"rules": ["x"]}, {"rules": [{"from": [{"source": {"principals": "a"}}]}]},
           {"rules": [{"from": ["x"]}]}, {"rules": [{"when": [{"values": ["a"]}]}]}]
    docs = [{"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
             "metadata": {"name": f"p{i}", "namespace": "a"}, "spec": spec} for i, spec in enumerate(bad)]
    snap = load_paths([write(tmp_path, "policies.json", json.dumps({"kind": "List", "items": docs}))])
    assert snap.scanned == {}
    assert snap.warnings[0].startswith("5 × skipped malformed objects: AuthorizationPolicy p0: spec.rules is not a "
                                       "list")


def test_duplicate_objects_are_a_counted_warning_and_the_later_one_wins(tmp_path):
    one = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\nspec: {type: ClusterIP}\n"
    two = one.replace("ClusterIP", "NodePort")
    snap = load_paths([write(tmp_path, "dup.yaml", one + "---\n" + two)])
    assert snap.get("Service", "a", "web").spec["type"] == "NodePort"
    assert snap.warnings == ["duplicate objects (the later one is used): Service a/web"]


def test_a_billion_laughs_alias_bomb_is_harmless(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: x}\n" + "\n".join(lines) + "\ndata: {k: *i}\n"
    snap = load_paths([write(tmp_path, "bomb.yaml", text)])
    assert snap.scanned == {"ConfigMap": 1}


def test_aliases_that_multiply_a_list_of_objects_are_refused(tmp_path):
    text = ("kind: List\napiVersion: v1\nitems:\n- &l0 {kind: List, items: [{apiVersion: v1, kind: Namespace, metadata: {name: n}}]}\n"
            + "".join(f"- &l{i} {{kind: List, items: [*l{i - 1}, *l{i - 1}, *l{i - 1}]}}\n" for i in range(1, 30)))
    with pytest.raises(LoadError, match="alias bomb"):
        load_paths([write(tmp_path, "lists.yaml", text)])


def test_a_merge_key_bomb_is_harmless(tmp_path):
    lines = ["a0: &a0 {k0: v, k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v}"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], x{i}: v}}")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: merge, namespace: x}\n" + "\n".join(lines) + "\n"
    assert load_paths([write(tmp_path, "merge.yaml", text)]).scanned == {"ConfigMap": 1}


def test_merge_keys_beyond_the_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(loaders, "MAX_MERGED_KEYS", 50)
    base = "base: &b {" + ", ".join(f"k{i}: v" for i in range(20)) + "}\n"
    text = base + "".join(f"m{i}: {{<<: *b, own: v}}\n" for i in range(5)) + "kind: ConfigMap\n"
    with pytest.raises(LoadError, match="merge keys expand to more than 50 entries"):
        load_paths([write(tmp_path, "merge.yaml", text)])


def test_anchors_without_merge_keys_do_not_count_against_the_merge_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(loaders, "MAX_MERGED_KEYS", 50)
    items = "".join(f"- {{apiVersion: v1, kind: Namespace, metadata: {{name: ns{i}, labels: *l}}}}\n" for i in range(200))
    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: first, labels: &l {team: a}}}\n" + items
    assert load_paths([write(tmp_path, "anchors.yaml", text)]).scanned == {"Namespace": 201}


def test_an_ampersand_in_a_value_is_not_mistaken_for_an_anchor(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(loaders, "_repeats_containers", lambda doc: seen.append(doc) or False)
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a, annotations: {docs: 'https://x/?a=1&b=2'}}\n"
    load_paths([write(tmp_path, "svc.yaml", text)])
    assert seen == []


def test_a_200_mb_snapshot_is_loaded(tmp_path):
    item = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}, "data": {"k": "A" * 900}}
    chunk = json.dumps(item)
    count = 200 * 1024 * 1024 // len(chunk)
    path = tmp_path / "big.json"
    with path.open("w") as fh:
        fh.write('{"apiVersion": "v1", "kind": "List", "items": [')
        fh.write(",".join(chunk.replace('"name": "s"', f'"name": "s{i}"') for i in range(count)))
        fh.write("]}")
    assert path.stat().st_size > 200 * 1024 * 1024 - 4096
    snap = load_paths([str(path)])
    assert snap.warnings == [f"ignored {count} objects of kinds the scanner does not read: Secret ({count})"]


def test_200_mb_of_comments_is_an_error_not_a_hang(tmp_path):
    path = tmp_path / "comments.yaml"
    path.write_bytes((b"# " + b"x" * 1022 + b"\n") * (200 * 1024))
    with pytest.raises(LoadError, match="no Kubernetes objects"):
        load_paths([str(path)])


def test_files_above_the_size_limit_are_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(loaders, "MAX_INPUT_BYTES", 1024)
    path = write(tmp_path, "big.yaml", "#" * 2048)
    with pytest.raises(LoadError, match="limit"):
        load_paths([path])


@pytest.mark.parametrize("data", [bytes(range(256)), "{not json", "- a\n- b\n"])
def test_the_command_line_prints_one_line_and_no_traceback(tmp_path, data):
    path = write(tmp_path, "bad.yaml", data)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    proc = subprocess.run([sys.executable, "manage.py", "scan", "-f", path], cwd=REPO, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and proc.stderr.startswith(path)
