"""Helpers for scanner tests: build snapshots from YAML, apply remediations, re-scan."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import jsonpatch
import yaml

from troubleshooting.scanner import Snapshot, scan
from troubleshooting.scanner.engine import all_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scanner"
RULES = {rule.id: rule for rule in all_rules()}


def docs_from_yaml(text: str) -> list[dict]:
    return flatten(d for d in yaml.safe_load_all(textwrap.dedent(text)) if d)


def fixture_docs(name: str) -> list[dict]:
    return flatten(d for d in yaml.safe_load_all((FIXTURES / name).read_text()) if d)


def flatten(docs) -> list[dict]:
    out = []
    for d in docs:
        if isinstance(d, dict) and str(d.get("kind", "")).endswith("List"):
            out.extend(flatten(d.get("items") or []))
        else:
            out.append(d)
    return out


def snapshot_of(docs, now=None) -> Snapshot:
    return Snapshot.from_objects(copy.deepcopy(list(docs)), now=now)


def run(docs, rule: str | None = None, now=None, **kw):
    """Scan raw docs; with ``rule``, only that rule's findings."""
    report = scan(snapshot_of(docs, now=now), rules=[RULES[rule]] if rule else None, **kw)
    return report.findings if rule else report


def run_yaml(text: str, rule: str | None = None, **kw):
    return run(docs_from_yaml(text), rule, **kw)


def _key(doc) -> tuple:
    md = doc.get("metadata") or {}
    ns = "" if doc.get("kind") == "Namespace" else (md.get("namespace") or "default")
    return (doc.get("kind"), ns, md.get("name"))


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def apply_remediation(docs, remediation) -> list[dict]:
    """What `kubectl apply` / `patch` / `delete` of the remediation does to the cluster state."""
    docs = [copy.deepcopy(d) for d in docs]
    index = {_key(d): i for i, d in enumerate(docs)}
    for obj in remediation.objects:
        obj = copy.deepcopy(obj)
        k = _key(obj)
        if k in index:
            docs[index[k]] = obj
        else:
            index[k] = len(docs)
            docs.append(obj)
    for patch in remediation.patches:
        k = (patch.target.kind, patch.target.namespace, patch.target.name)
        assert k in index, f"patch target {patch.target} is not in the snapshot"
        doc = docs[index[k]]
        if patch.type == "merge":
            docs[index[k]] = merge_patch(doc, patch.body)
        else:
            docs[index[k]] = jsonpatch.apply_patch(doc, patch.body)
    for ref in remediation.deletes:
        k = (ref.kind, ref.namespace, ref.name)
        assert k in index, f"delete target {ref} is not in the snapshot"
        docs[index[k]] = None
    return [d for d in docs if d is not None]


def round_trip(docs, finding):
    """Apply a finding's remediation and re-scan: returns (fingerprints before, fingerprints after)."""
    before = {f.fingerprint for f in run(docs).findings}
    assert finding.fingerprint in before
    assert not finding.remediation.placeholders, finding.remediation.placeholders
    after_docs = apply_remediation(docs, finding.remediation)
    after = {f.fingerprint: f for f in run(after_docs).findings}
    return before, after
