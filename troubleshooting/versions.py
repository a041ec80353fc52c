"""Istio version ranges that articles declare and the scanner evaluates.

Pure Python (no Django) so detectors can use it directly.

An article lists the Istio versions it affects as a list of entries::

    istio_versions:
      - range: "<=1.20"
      - range: ">=1.21,<1.24"
        when: {ENABLE_EXTERNAL_NAME_ALIAS: "false"}

An entry applies when the control plane's version is inside ``range`` and every
``when`` variable is set to that value in istiod's environment. No entries means
every version is affected.

A clause compares only as many components as it names: ``<=1.20`` covers every
1.20.x patch release, ``<1.20.3`` stops at the patch.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?")
_REVISION_RE = re.compile(r"^(\d+)-(\d+)(?:-(\d+))?")
_CLAUSE_RE = re.compile(r"^\s*(<=|>=|==|!=|<|>)?\s*v?(\d+)\.(\d+)(?:\.(\d+))?\s*$")
_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class VersionError(ValueError):
    """A version or version range that cannot be parsed."""


@dataclass(frozen=True, order=True)
class IstioVersion:
    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> "IstioVersion":
        """Parse ``1.22``, ``1.22.3``, ``v1.22.3-distroless`` or ``1.23-dev``."""
        match = _VERSION_RE.match(str(text))
        if not match:
            raise VersionError(f"not an Istio version: {text!r}")
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0))

    @classmethod
    def from_image(cls, image: str) -> "IstioVersion | None":
        """The version in a container image tag (``docker.io/istio/pilot:1.22.3``), if any."""
        tag = image.rsplit("@", 1)[0]
        if ":" not in tag.rsplit("/", 1)[-1]:
            return None
        try:
            return cls.parse(tag.rsplit(":", 1)[1])
        except VersionError:
            return None

    @classmethod
    def from_revision(cls, revision: str) -> "IstioVersion | None":
        """The version in a revision name such as ``1-22-3`` (a common naming habit)."""
        match = _REVISION_RE.match(revision or "")
        if not match:
            return None
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def minor_version(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class _Clause:
    op: str
    bound: tuple[int, ...]

    def matches(self, version: IstioVersion) -> bool:
        mine = (version.major, version.minor, version.patch)[: len(self.bound)]
        return _OPERATORS[self.op](mine, self.bound)

    def __str__(self) -> str:
        return f"{self.op}{'.'.join(map(str, self.bound))}"


@dataclass(frozen=True)
class VersionRange:
    """A comma-separated conjunction of clauses, e.g. ``>=1.21,<1.24``; ``*`` matches all."""

    clauses: tuple[_Clause, ...]

    @classmethod
    def parse(cls, text: str) -> "VersionRange":
        text = str(text).strip()
        if text in ("*", ""):
            return cls(())
        clauses = []
        for part in text.split(","):
            match = _CLAUSE_RE.match(part)
            if not match:
                raise VersionError(
                    f"bad version range {text!r}: expected clauses such as '>=1.21,<1.24' or '*'"
                )
            op, major, minor, patch = match.groups()
            bound = (int(major), int(minor)) + ((int(patch),) if patch is not None else ())
            clauses.append(_Clause(op or "==", bound))
        return cls(tuple(clauses))

    def matches(self, version: IstioVersion) -> bool:
        return all(clause.matches(version) for clause in self.clauses)

    def describe(self) -> str:
        """Human text: ``≤ 1.20``, ``1.21 – 1.23``, ``all versions``."""
        if not self.clauses:
            return "all versions"
        bounds = {c.op: c for c in self.clauses}
        if set(bounds) == {">=", "<"} and len(bounds[">="].bound) == len(bounds["<"].bound) == 2:
            low, high = bounds[">="].bound, bounds["<"].bound
            last = (high[0], high[1] - 1) if high[1] > 0 else None
            if last and last >= low:
                if last == low:
                    return f"{low[0]}.{low[1]}"
                return f"{low[0]}.{low[1]} – {last[0]}.{last[1]}"
        symbols = {"<=": "≤ ", ">=": "≥ ", "<": "< ", ">": "> ", "==": "", "!=": "≠ "}
        return ", ".join(f"{symbols[c.op]}{'.'.join(map(str, c.bound))}" for c in self.clauses)

    def __str__(self) -> str:
        return ",".join(map(str, self.clauses)) or "*"


@dataclass(frozen=True)
class AffectedEntry:
    range: VersionRange
    when: dict[str, str] = field(default_factory=dict)

    def applies(self, version: IstioVersion, istiod_env: dict[str, str]) -> bool:
        if not self.range.matches(version):
            return False
        return all(
            str(istiod_env.get(name, "")).strip().lower() == str(value).strip().lower()
            for name, value in self.when.items()
        )

    def describe(self) -> str:
        text = self.range.describe()
        if self.when:
            text += " with " + ", ".join(f"{k}={v}" for k, v in self.when.items())
        return text


@dataclass(frozen=True)
class AffectedVersions:
    """The article's ``istio_versions`` list, ready to evaluate."""

    entries: tuple[AffectedEntry, ...] = ()

    @classmethod
    def from_data(cls, data: list | None) -> "AffectedVersions":
        """Build from the front-matter list; raises VersionError naming the bad entry."""
        if data is None:
            return cls(())
        if not isinstance(data, list):
            raise VersionError("istio_versions must be a list of {range, when} entries")
        entries = []
        for index, item in enumerate(data):
            if not isinstance(item, dict) or "range" not in item:
                raise VersionError(f"istio_versions[{index}] needs a 'range' key")
            unknown = set(item) - {"range", "when", "note"}
            if unknown:
                raise VersionError(f"istio_versions[{index}] has unknown keys: {', '.join(sorted(unknown))}")
            when = item.get("when") or {}
            if not isinstance(when, dict) or not all(isinstance(k, str) for k in when):
                raise VersionError(f"istio_versions[{index}].when must map istiod variables to values")
            entries.append(
                AffectedEntry(VersionRange.parse(item["range"]), {k: str(v) for k, v in when.items()})
            )
        return cls(tuple(entries))

    def applies(self, version: IstioVersion | None, istiod_env: dict[str, str] | None = None) -> bool:
        """True when the failure can happen on this control plane.

        An unknown version counts as affected: a scanner that cannot tell must not stay silent.
        """
        if not self.entries or version is None:
            return True
        env = istiod_env or {}
        return any(entry.applies(version, env) for entry in self.entries)

    def describe(self) -> str:
        if not self.entries:
            return "All Istio versions"
        return "; ".join(entry.describe() for entry in self.entries)
