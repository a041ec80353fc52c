"""The rule registry and ``scan(snapshot) -> Report``."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

from . import MESHKB_VERSION
from .findings import SEVERITY_RANK, Finding, Ref, Remediation
from .suppress import Suppression, suppressed_by


@dataclass
class Rule:
    """A detector: a plain function ``snapshot -> list[Finding]`` plus its metadata."""

    id: str
    slug: str
    title: str
    severity: str
    description: str = ""
    versions: str = "all Istio versions"
    check: Callable | None = None

    def __post_init__(self):
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"{self.id}: unknown severity {self.severity!r}")

    def __call__(self, fn: Callable) -> Callable:
        """Decorator: ``@RULE`` on the module's check function."""
        self.check = fn
        return fn

    def finding(self, resource: Ref, message: str, *, related=(), evidence=None, remediation: Remediation | None = None,
                severity: str | None = None, discriminator: str = "") -> Finding:
        return Finding(
            rule=self.id,
            article=self.slug,
            severity=severity or self.severity,
            resource=resource,
            message=message,
            related=sorted(set(related) - {resource}),
            evidence=evidence or {},
            remediation=remediation,
            discriminator=discriminator,
        )


def all_rules() -> list[Rule]:
    """Every rule module in ``troubleshooting.scanner.rules`` (one module per rule), by id."""
    from . import rules as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Rule) and rule.check is not None:
            found.append(rule)
    found.sort(key=lambda r: r.id)
    ids = [r.id for r in found]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate rule ids: {ids}")
    return found


def documentation_url(base: str, slug: str) -> str:
    return f"{base.rstrip('/')}/articles/{slug}/"


@dataclass
class Report:
    source: str
    versions: list
    revisions: list
    scanned: dict
    warnings: list
    findings: list
    suppressed: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    base_url: str = ""
    meshkb_version: str = MESHKB_VERSION

    def at_or_above(self, severity: str) -> list[Finding]:
        if severity == "none":
            return []
        floor = SEVERITY_RANK[severity]
        return [f for f in self.findings if f.rank >= floor]

    def counts(self) -> dict:
        out = {name: 0 for name in SEVERITY_RANK}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def to_dict(self) -> dict:
        return {
            "meshkb_version": self.meshkb_version,
            "source": self.source,
            "istio": {"versions": self.versions, "revisions": self.revisions},
            "scanned": self.scanned,
            "warnings": self.warnings,
            "findings": [f.to_dict() for f in self.findings],
            "suppressed": [dict(f.to_dict(), suppressed_by=why) for f, why in self.suppressed],
        }


def scan(snapshot, *, suppress=(), namespaces=None, rules=None, base_url: str = "") -> Report:
    """Run every rule on a snapshot.

    ``suppress``: ``Suppression`` objects or pattern strings; ``namespaces``: report only findings
    whose resource is in one of them (None = all). A rule that fails on odd input becomes a warning,
    never a crash of the whole scan.
    """
    patterns = [s if isinstance(s, Suppression) else Suppression.parse(s) for s in suppress]
    selected = rules if rules is not None else all_rules()
    warnings = list(snapshot.warnings) + _scope_warnings(snapshot)
    seen: dict[str, Finding] = {}
    from .loaders import paused_gc

    for rule in selected:
        try:
            with paused_gc():
                produced = rule.check(snapshot) or []
        except Exception as exc:  # a detector bug or input it did not expect: report, keep going
            warnings.append(f"rule {rule.id} ({rule.slug}) could not run on this input: {type(exc).__name__}: {exc}")
            continue
        for finding in produced:
            finding.documentation_url = documentation_url(base_url, finding.article)
            obj = snapshot.get(finding.resource.kind, finding.resource.namespace, finding.resource.name)
            finding.origin = obj.origin if obj is not None else ""
            finding.line = obj.line if obj is not None else 0
            seen.setdefault(finding.fingerprint, finding)
    wanted = set(namespaces) if namespaces else None
    findings, suppressed = [], []
    for finding in seen.values():
        if wanted is not None and finding.resource.namespace not in wanted:
            continue
        why = suppressed_by(finding, patterns, snapshot.annotations_of)
        if why:
            suppressed.append((finding, why))
        else:
            findings.append(finding)
    order = lambda f: (-f.rank, f.rule, f.resource, f.discriminator)  # noqa: E731
    findings.sort(key=order)
    suppressed.sort(key=lambda item: order(item[0]))
    return Report(
        source=snapshot.source,
        versions=snapshot.istio_versions,
        revisions=snapshot.istio_revisions,
        scanned=dict(sorted(snapshot.scanned.items())),
        warnings=warnings,
        findings=findings,
        suppressed=suppressed,
        rules=selected,
        base_url=base_url,
    )


def _scope_warnings(snapshot) -> list[str]:
    """Say so when istiod sees less of the cluster than meshkb checks."""
    return [
        f"{config['_source']} sets discoverySelectors: istiod ignores the namespaces they do not select, while "
        f"meshkb checks every namespace, so findings in unselected namespaces may not apply"
        for _, config in sorted(snapshot.mesh_configs().items())
        if config.get("discoverySelectors")
    ]
