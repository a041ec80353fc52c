"""``manage.py scan``: flags, output on stdout only, exit codes 0 / 2 / 3."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from troubleshooting.management.base import InputError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "scanner"
SEED3 = str(FIXTURES / "seed3-gateway-duplicate-tls-host.yaml")
SEED5 = str(FIXTURES / "seed5-long-connection-without-keepalive.yaml")


def scan(*args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("scan", *args, stdout=out, stderr=err, stdin=stdin)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


def test_json_output_is_one_document_on_stdout(settings):
    settings.SITE_URL = "https://meshkb.example.com"
    code, out = scan("--file", SEED3, "-o", "json", "--fail-on", "none")
    data = json.loads(out)
    assert code == 0
    assert [f["rule"] for f in data["findings"]] == ["MKB-003", "MKB-006"]
    assert data["findings"][0]["documentation_url"] == "https://meshkb.example.com/articles/gateway-duplicate-tls-host/"


def test_findings_at_or_above_fail_on_exit_3():
    assert scan("-f", SEED3, "-o", "json")[0] == 3  # default --fail-on error
    assert scan("-f", SEED5, "-o", "json")[0] == 0  # warning + info only
    assert scan("-f", SEED5, "-o", "json", "--fail-on", "warning")[0] == 3
    assert scan("-f", SEED5, "-o", "json", "--fail-on", "info")[0] == 3


def test_stdin_and_several_files_are_scanned_together():
    code, out = scan("-f", "-", "--file", SEED5, "-o", "json", "--fail-on", "none",
                     stdin=io.BytesIO(Path(SEED3).read_bytes()))
    data = json.loads(out)
    assert data["source"] == f"stdin, {SEED5}"
    assert {f["rule"] for f in data["findings"]} >= {"MKB-003", "MKB-005", "MKB-006"}


def test_namespace_filter_and_suppress_flags():
    _, out = scan("-f", SEED3, "-o", "json", "-n", "istio-system", "--fail-on", "none")
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["MKB-006"]
    _, out = scan("-f", SEED3, "-o", "json", "-A", "--suppress", "MKB-003=Gateway default/*", "--fail-on", "none")
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["MKB-006"]


@pytest.mark.parametrize("fmt, check", [
    ("yaml", lambda out: out.startswith("meshkb_version:")),
    ("sarif", lambda out: json.loads(out)["version"] == "2.1.0"),
    ("text", lambda out: "ERROR   MKB-003  gateway-duplicate-tls-host" in out),
])
def test_every_output_format(fmt, check):
    code, out = scan("-f", SEED3, "-o", fmt)
    assert code == 3 and check(out)


@pytest.mark.parametrize("args, message", [
    (["-f", "/nonexistent.yaml"], "/nonexistent.yaml: no such file or directory"),
    (["-f", SEED3, "--suppress", "nonsense here"], "bad --suppress"),
    (["-f", SEED3, "--kubeconfig", "x"], "give either --file or --kubeconfig/--context, not both"),
    (["-f", SEED3, "-o", "xml"], "invalid choice: 'xml'"),
    (["-f", SEED3, "-n", "a", "-A"], "not allowed with argument"),
    (["--kubeconfig", "/nonexistent/kubeconfig"], "kubeconfig"),
])
def test_bad_input_raises_a_one_line_input_error_with_exit_code_2(args, message):
    with pytest.raises(InputError, match=message) as err:
        call_command("scan", *args, stdout=io.StringIO())
    assert err.value.returncode == 2 and "\n" not in str(err.value)


def test_from_the_shell_only_json_reaches_stdout_and_the_exit_code_is_3():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    proc = subprocess.run([sys.executable, "manage.py", "scan", "--file", SEED3, "-o", "json"], cwd=REPO, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["findings"][0]["rule"] == "MKB-003"
    assert proc.stderr == ""


def test_from_the_shell_an_unreachable_cluster_is_one_line_and_exit_2(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "c", "user": "u"}}],
    }))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    proc = subprocess.run([sys.executable, "manage.py", "scan", "--kubeconfig", str(kubeconfig), "-o", "json"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("cannot reach https://127.0.0.1:9") and proc.stderr.count("\n") == 1
