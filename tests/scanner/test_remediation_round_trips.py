"""Every copy-ready remediation, applied back to the cluster state, removes its finding and adds none.

Covers every finding of the seed reproductions (alone and together), of the rule tests' scenarios and
of Istio's analyzer fixtures: full objects are applied like ``kubectl apply``, patches like
``kubectl patch`` (merge and JSON patch), deletes like ``kubectl delete``. Remediations with a marked
placeholder are checked to say so and are not applied.
"""

import importlib
import pkgutil

import pytest

import tests.scanner as package
from tests.scanner.support import FIXTURES, docs_from_yaml, fixture_docs, round_trip, run
from tests.scanner.test_parity import TESTDATA

SEEDS = sorted(p.name for p in FIXTURES.glob("seed*.yaml"))


def scenarios():
    out = [(name, fixture_docs(name)) for name in SEEDS]
    out.append(("all seeds", [d for name in SEEDS for d in fixture_docs(name)]))
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("test_rule_mkb"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for attr, value in vars(module).items():
            if attr.isupper() and isinstance(value, str) and "kind:" in value:
                out.append((f"{info.name}.{attr}", docs_from_yaml(value)))
    if TESTDATA.exists():
        for path in sorted(TESTDATA.glob("*.yaml")):
            docs = [d for d in docs_from_yaml(path.read_text()) if isinstance(d, dict) and d.get("kind")]
            if docs:
                out.append((path.name, docs))
    return out


CASES = [(name, docs, f) for name, docs in scenarios() for f in run(docs).findings if f.remediation]


@pytest.mark.parametrize("name, docs, finding", CASES, ids=[f"{n}:{f.rule}:{f.resource}" for n, _, f in CASES])
def test_applying_the_remediation_removes_the_finding_and_adds_none(name, docs, finding):
    rem = finding.remediation
    if rem.placeholders:
        assert all(p.startswith("<FILL-IN:") for p in rem.placeholders)
        assert "FILL-IN" in rem.yaml + "\n".join(rem.all_commands())
        return
    if not (rem.objects or rem.patches or rem.deletes):
        assert rem.commands, "a remediation needs something to do"
        return
    before, after = round_trip(docs, finding)
    assert finding.fingerprint not in after
    new = {fp: f for fp, f in after.items() if fp not in before}
    assert not new, [f"{f.rule} {f.resource}: {f.message}" for f in new.values()]


def test_there_are_round_trips_for_every_rule_with_object_remediations():
    applied = {f.rule for _, _, f in CASES if not f.remediation.placeholders and
               (f.remediation.objects or f.remediation.patches or f.remediation.deletes)}
    assert applied >= {"MKB-001", "MKB-002", "MKB-003", "MKB-004", "MKB-005", "MKB-006", "MKB-101", "MKB-102",
                       "MKB-103", "MKB-105", "MKB-108", "MKB-110", "MKB-111", "MKB-112", "MKB-117"}
