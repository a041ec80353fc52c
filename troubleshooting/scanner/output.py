"""Render a report: ``text`` for terminals, ``json``/``yaml`` for machines, ``sarif`` (2.1.0) for code scanning."""

from __future__ import annotations

import json
import shutil
import textwrap

import yaml

from .engine import Report
from .findings import SEVERITIES, _Dumper

FORMATS = ("text", "json", "yaml", "sarif")
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(report: Report, fmt: str, *, width: int | None = None) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.dump(report.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    if fmt == "sarif":
        return json.dumps(sarif(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        return text(report, width=width)
    raise ValueError(f"unknown output format {fmt!r} (expected one of: {', '.join(FORMATS)})")


def text(report: Report, *, width: int | None = None) -> str:
    width = width or max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
    wrap = lambda s, indent: textwrap.fill(s, width=width, initial_indent=indent,  # noqa: E731
                                           subsequent_indent=indent, break_long_words=False,
                                           break_on_hyphens=False)
    lines = [f"meshkb {report.meshkb_version} scan of {report.source or 'input'}"]
    istio = ", ".join(report.versions) or "unknown version"
    if report.revisions:
        istio += f" (revisions: {', '.join(report.revisions)})"
    lines.append(f"Istio: {istio}")
    scanned = ", ".join(f"{kind} {count}" for kind, count in report.scanned.items()) or "nothing"
    lines.append(wrap(f"Objects: {scanned}", ""))
    titles = {r.id: r.title for r in report.rules}
    by_rule: dict[tuple, list] = {}
    for f in report.findings:
        by_rule.setdefault((-f.rank, f.rule), []).append(f)
    for (_, rule_id), findings in sorted(by_rule.items()):
        first = findings[0]
        lines.append("")
        header = f"{first.severity.upper():<8}{rule_id}  {first.article}"
        lines.append(header)
        if titles.get(rule_id):
            lines.append(wrap(titles[rule_id], " " * 8))
        lines.append(" " * 8 + first.documentation_url)
        for f in findings:
            lines.append("")
            lines.append(f"  - {f.resource}" + (f"  [{f.severity}]" if f.severity != first.severity else ""))
            lines.append(wrap(f.message, " " * 4))
            if f.related:
                lines.append(wrap("related: " + ", ".join(str(r) for r in f.related), " " * 4))
            if f.remediation:
                lines.append(wrap("fix: " + f.remediation.summary, " " * 4))
                if f.remediation.objects:
                    for line in f.remediation.yaml.rstrip("\n").splitlines():
                        lines.append(" " * 6 + line)
                for cmd in f.remediation.all_commands():
                    if not cmd.startswith("kubectl apply -f -"):
                        lines.append(" " * 6 + "$ " + cmd)
            lines.append(" " * 4 + f"fingerprint {f.fingerprint}")
    if report.warnings:
        lines.append("")
        lines.append("Warnings:")
        for w in report.warnings:
            lines.append(wrap(w, "  - ").replace("  - ", "  - ", 1))
    counts = report.counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in reversed(SEVERITIES))
    if report.suppressed:
        summary += f" ({len(report.suppressed)} suppressed)"
    lines.append("")
    lines.append(f"Findings: {summary}" if report.findings else f"No findings ({summary}).")
    return "\n".join(lines) + "\n"


def sarif(report: Report) -> dict:
    rules = []
    index = {}
    for rule in report.rules:
        index[rule.id] = len(rules)
        url = next((f.documentation_url for f in report.findings if f.rule == rule.id), "")
        entry = {
            "id": rule.id,
            "name": "".join(part.capitalize() for part in rule.slug.split("-")),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.description or rule.title},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
            "properties": {"article": rule.slug, "versions": rule.versions},
        }
        if url:
            entry["helpUri"] = url
        rules.append(entry)
    results = []
    for f in report.findings:
        location = {
            "logicalLocations": [
                {
                    "name": f.resource.name,
                    "fullyQualifiedName": f"{f.resource.namespace or '-'}/{f.resource.kind}/{f.resource.name}",
                    "kind": "resource",
                }
            ]
        }
        if f.origin and f.origin not in ("stdin", "cluster") and not f.origin.startswith("cluster"):
            location["physicalLocation"] = {"artifactLocation": {"uri": f.origin}, "region": {"startLine": f.line or 1}}
        result = {
            "ruleId": f.rule,
            "level": SARIF_LEVELS[f.severity],
            "message": {"text": f"{f.resource}: {f.message}"},
            "locations": [location],
            "partialFingerprints": {"meshkbFingerprint/v1": f.fingerprint},
            "properties": {
                "article": f.article,
                "documentation_url": f.documentation_url,
                "related": [str(r) for r in f.related],
                "evidence": f.evidence,
                "remediation": f.remediation.to_dict() if f.remediation else None,
            },
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        results.append(result)
    if report.base_url:
        driver_extra = {"informationUri": report.base_url.rstrip("/") + "/"}
    else:
        driver_extra = {}
    out = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "meshkb",
                        "version": report.meshkb_version,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "warning", "message": {"text": w}} for w in report.warnings
                        ],
                    }
                ],
                "results": results,
            }
        ],
    }
    out["runs"][0]["tool"]["driver"].update(driver_extra)
    return out
