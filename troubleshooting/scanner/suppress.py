"""Suppressing findings: the ``meshkb.io/ignore`` annotation and ``--suppress`` patterns.

Annotation (on the finding's resource, or on its Namespace for everything in it)::

    metadata:
      annotations:
        meshkb.io/ignore: "MKB-003,MKB-101"     # or "*" for every rule

Pattern (``--suppress``, repeatable)::

    RULE=Kind namespace/name     e.g.  MKB-003=Gateway default/test2
    RULE=Kind name               for cluster-scoped objects
    RULE                         every resource

``*`` is a wildcard in every part: ``MKB-1*=* kube-system/*``, ``*=Deployment */legacy-*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .findings import Finding, Ref

ANNOTATION = "meshkb.io/ignore"
_PART = re.compile(r"^[A-Za-z0-9*?._\-]+$")


class SuppressionError(ValueError):
    pass


@dataclass(frozen=True)
class Suppression:
    rule: str
    kind: str = "*"
    namespace: str = "*"
    name: str = "*"
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> "Suppression":
        raw = text.strip()
        rule, sep, target = raw.partition("=")
        rule = rule.strip()
        if not rule or not _PART.match(rule):
            raise SuppressionError(f"bad --suppress {text!r}: expected 'RULE=Kind namespace/name' (e.g. MKB-003=Gateway default/test2)")
        if not sep:
            return cls(rule.upper(), text=raw)
        parts = target.split()
        if len(parts) != 2:
            raise SuppressionError(f"bad --suppress {text!r}: after '=' give 'Kind namespace/name' or 'Kind name'")
        kind, path = parts
        if "/" in path:
            namespace, _, name = path.partition("/")
        else:
            namespace, name = "", path
        for part in (kind, namespace or "x", name):
            if not _PART.match(part):
                raise SuppressionError(f"bad --suppress {text!r}: unexpected characters in {part!r}")
        return cls(rule.upper(), kind, namespace, name, raw)

    def matches(self, finding: Finding) -> bool:
        r = finding.resource
        return (
            fnmatchcase(finding.rule.upper(), self.rule)
            and fnmatchcase(r.kind.lower(), self.kind.lower())
            and fnmatchcase(r.namespace, self.namespace)
            and fnmatchcase(r.name, self.name)
        )


def annotation_rules(value: str) -> set[str]:
    return {part.strip().upper() for part in str(value).split(",") if part.strip()}


def annotation_suppresses(value: str | None, rule: str) -> bool:
    if not value:
        return False
    rules = annotation_rules(value)
    return "*" in rules or rule.upper() in rules or any(fnmatchcase(rule.upper(), r) for r in rules)


def suppressed_by(finding: Finding, patterns, annotations_of) -> str | None:
    """Why a finding is suppressed (for the report), or None."""
    res = finding.resource
    if annotation_suppresses(annotations_of(res).get(ANNOTATION), finding.rule):
        return f"annotation {ANNOTATION} on {res}"
    if res.namespace:
        ns = Ref("Namespace", "", res.namespace)
        if annotation_suppresses(annotations_of(ns).get(ANNOTATION), finding.rule):
            return f"annotation {ANNOTATION} on Namespace {res.namespace}"
    for pattern in patterns:
        if pattern.matches(finding):
            return f"--suppress {pattern.text}"
    return None
