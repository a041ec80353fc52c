"""Output formats: text for terminals, JSON/YAML for machines, SARIF 2.1.0 for code scanning."""

import json
import re

import yaml

from tests.scanner.support import fixture_docs, run
from troubleshooting.scanner.output import render

DOCS = fixture_docs("seed3-gateway-duplicate-tls-host.yaml") + fixture_docs("seed2-externalname-hijacks-port.yaml")


def report():
    return run(DOCS, base_url="https://kb.example.com")


def test_json_is_the_report_dictionary():
    data = json.loads(render(report(), "json"))
    assert data == json.loads(json.dumps(report().to_dict()))
    assert data["findings"][0]["documentation_url"].startswith("https://kb.example.com/articles/")


def test_yaml_holds_the_same_data_with_readable_remediation_blocks():
    text = render(report(), "yaml")
    assert yaml.safe_load(text) == json.loads(render(report(), "json"))
    assert "yaml: |" in text  # multi-line remediation YAML as a literal block


def test_text_groups_findings_by_severity_and_rule():
    text = render(report(), "text", width=100)
    lines = text.splitlines()
    assert lines[0].startswith("meshkb ") and lines[1] == "Istio: 1.11.4 (revisions: default)"
    headers = [line.split()[:2] for line in lines if line[:1].isupper() and line.split()[0] in ("ERROR", "WARNING", "INFO")]
    assert headers == [["ERROR", "MKB-002"], ["ERROR", "MKB-003"], ["INFO", "MKB-006"]]
    assert "  - Gateway default/test2" in lines
    assert "$ kubectl delete gateways.networking.istio.io test2 -n default" in text
    assert lines[-1] == "Findings: 2 error, 0 warning, 1 info"


def test_text_says_so_when_there_is_nothing_to_report():
    assert render(run([]), "text").splitlines()[-1] == "No findings (0 error, 0 warning, 0 info)."


def test_sarif_is_a_valid_2_1_0_log_with_rules_locations_and_fingerprints():
    log = json.loads(render(report(), "sarif"))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    [run_] = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "meshkb" and driver["informationUri"] == "https://kb.example.com/"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) >= 21
    for result in run_["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        [loc] = result["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "test"
        assert loc["logicalLocations"][0]["kind"] == "resource"
        assert len(result["partialFingerprints"]["meshkbFingerprint/v1"]) == 24
    levels = {r["ruleId"]: r["level"] for r in run_["results"]}
    assert levels == {"MKB-002": "error", "MKB-003": "error", "MKB-006": "note"}


def _sarif_lines(paths):
    from troubleshooting.scanner import load_paths, scan

    log = json.loads(render(scan(load_paths([str(p) for p in paths])), "sarif"))
    return {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]):
            r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in log["runs"][0]["results"]}


def _object_at(text: str, line: int) -> str:
    """The lines of one object: from where SARIF points up to the next document or List item."""
    rest = text.splitlines()[line - 1:]
    end = next((i for i, row in enumerate(rest) if i and re.match(r"---|- |    \{|        \{", row)), len(rest))
    return "\n".join(rest[:end])


def test_sarif_points_at_the_line_where_each_flagged_object_starts(tmp_path):
    from tests.scanner.support import FIXTURES

    manifests = (FIXTURES / "seed3-gateway-duplicate-tls-host.yaml").read_text()
    kubectl_json = json.dumps({"apiVersion": "v1", "items": fixture_docs("seed2-externalname-hijacks-port.yaml"),
                               "kind": "List", "metadata": {}}, indent=4)
    kubectl_yaml = yaml.safe_dump({"apiVersion": "v1", "items": fixture_docs("seed2-externalname-hijacks-port.yaml"),
                                   "kind": "List", "metadata": {}}, sort_keys=True)
    for name, text, shape in [("manifests.yaml", manifests, "name: {}"), ("list.json", kubectl_json, '"name": "{}"'),
                              ("list.yaml", kubectl_yaml, "name: {}")]:
        path = tmp_path / name
        path.write_text(text)
        lines = _sarif_lines([path])
        assert lines, name
        for (rule, resource), line in lines.items():
            found = _object_at(text, line)
            assert re.match(r"apiVersion: |- |\s*\{$", found.split("\n")[0]), (name, rule, line)  # its first line
            assert shape.format(resource) in found, (name, rule, line)
