"""Measure search quality on a labelled set of real error messages.

A set is a YAML list of ``{id, query, expected: [slug, ...], source}``; a case counts as
top-k when one of its expected slugs is among the first k results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class EvaluationSetError(ValueError):
    pass


@dataclass
class Case:
    id: str
    query: str
    expected: list[str]
    source: str = ""


@dataclass
class Outcome:
    case: Case
    ranked: list[str]

    @property
    def rank(self) -> int | None:
        """1-based position of the first acceptable article, or None."""
        for position, slug in enumerate(self.ranked, 1):
            if slug in self.case.expected:
                return position
        return None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def accuracy(self, k: int) -> float:
        if not self.outcomes:
            return 0.0
        return sum(1 for o in self.outcomes if o.rank is not None and o.rank <= k) / len(self.outcomes)

    def misses(self, k: int) -> list[Outcome]:
        return [o for o in self.outcomes if o.rank is None or o.rank > k]

    def summary(self) -> str:
        total = len(self.outcomes)
        top1 = sum(1 for o in self.outcomes if o.rank == 1)
        top3 = sum(1 for o in self.outcomes if o.rank is not None and o.rank <= 3)
        return (
            f"cases: {total}  top-1: {self.accuracy(1):.1%} ({top1}/{total})  "
            f"top-3: {self.accuracy(3):.1%} ({top3}/{total})"
        )


def load_cases(path: Path | str, known_slugs: set[str] | None = None) -> list[Case]:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EvaluationSetError(f"{path}: cannot read the evaluation set: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, list):
        raise EvaluationSetError(f"{path}: expected a YAML list of cases")
    cases, seen = [], set()
    for index, item in enumerate(data):
        where = f"{path}: case {index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("query"), str) or not item.get("expected"):
            raise EvaluationSetError(f"{where}: needs 'query' (text) and 'expected' (list of slugs)")
        expected = item["expected"] if isinstance(item["expected"], list) else [item["expected"]]
        case_id = str(item.get("id") or index + 1)
        if case_id in seen:
            raise EvaluationSetError(f"{where}: duplicate id {case_id!r}")
        seen.add(case_id)
        if known_slugs is not None:
            unknown = [slug for slug in expected if slug not in known_slugs]
            if unknown:
                raise EvaluationSetError(f"{where} ({case_id}): unknown article {unknown[0]!r}")
        cases.append(Case(case_id, item["query"], [str(s) for s in expected], str(item.get("source", ""))))
    return cases


def evaluate(cases: list[Case], search, depth: int = 3) -> Report:
    """Run every case through ``search(text, limit)`` (returning ranked slugs)."""
    return Report([Outcome(case, search(case.query, depth)) for case in cases])
