"""Suppression: the meshkb.io/ignore annotation and --suppress patterns."""

import pytest

from tests.scanner.support import fixture_docs, run
from troubleshooting.scanner.suppress import Suppression, SuppressionError

SEED = "seed3-gateway-duplicate-tls-host.yaml"


def mkb003(findings):
    return [f for f in findings if f.rule == "MKB-003"]


def with_annotation(kind, name, value, docs=None):
    docs = docs or fixture_docs(SEED)
    for d in docs:
        if d["kind"] == kind and d["metadata"]["name"] == name:
            d["metadata"].setdefault("annotations", {})["meshkb.io/ignore"] = value
    return docs


def test_the_annotation_on_the_resource_suppresses_the_listed_rule():
    report = run(with_annotation("Gateway", "test2", "MKB-101, MKB-003"))
    assert mkb003(report.findings) == []
    [(finding, why)] = report.suppressed
    assert finding.rule == "MKB-003" and why == "annotation meshkb.io/ignore on Gateway default/test2"


def test_the_annotation_for_another_rule_does_not():
    assert len(mkb003(run(with_annotation("Gateway", "test2", "MKB-101")).findings)) == 1


def test_the_annotation_on_the_namespace_covers_its_resources():
    docs = fixture_docs(SEED) + [{"apiVersion": "v1", "kind": "Namespace",
                                  "metadata": {"name": "default", "annotations": {"meshkb.io/ignore": "*"}}}]
    report = run(docs)
    assert mkb003(report.findings) == [] and [f.rule for f in report.findings] == ["MKB-006"]


@pytest.mark.parametrize("pattern", ["MKB-003=Gateway default/test2", "MKB-003=gateway default/*", "MKB-00*=* */test?",
                                     "*=Gateway */*", "mkb-003"])
def test_patterns_with_wildcards_suppress(pattern):
    report = run(fixture_docs(SEED), suppress=[pattern])
    assert mkb003(report.findings) == []
    assert [why for f, why in report.suppressed if f.rule == "MKB-003"] == [f"--suppress {pattern}"]


@pytest.mark.parametrize("pattern", ["MKB-004=Gateway default/test2", "MKB-003=Gateway other/test2",
                                     "MKB-003=Service default/test2", "MKB-003=Gateway test2"])
def test_patterns_that_do_not_match_leave_the_finding(pattern):
    assert len(mkb003(run(fixture_docs(SEED), suppress=[pattern]).findings)) == 1


@pytest.mark.parametrize("bad", ["", "=Gateway a/b", "MKB-003=Gateway", "MKB-003=Gateway a/b extra", "MKB-003=Gate;way a/b"])
def test_malformed_patterns_are_rejected_with_the_expected_syntax(bad):
    with pytest.raises(SuppressionError, match="RULE=Kind namespace/name|Kind namespace/name|unexpected characters"):
        Suppression.parse(bad)


def test_suppressed_findings_stay_visible_in_the_json():
    data = run(with_annotation("Gateway", "test2", "MKB-003")).to_dict()
    assert [f["rule"] for f in data["findings"]] == ["MKB-006"]
    assert data["suppressed"][0]["rule"] == "MKB-003" and data["suppressed"][0]["suppressed_by"].startswith("annotation")
