"""Tell a chat channel or an incident tool what a scan changed.

After a scan, the news is: findings first seen (or back) in it, findings it resolved, and the
cluster starting or stopping to fail. Each finding at or above MESHKB_WEBHOOK_MIN_SEVERITY that no
suppression hides is listed once, when it changes; a scan that changed nothing sends nothing.
The body is JSON with a Slack/Mattermost-compatible ``text`` and the same facts as fields.
"""

from __future__ import annotations

import requests
from django.conf import settings
from django.utils import timezone

from troubleshooting.models import Finding, Scan
from troubleshooting.models.clusters import SEVERITIES

MAX_LISTED = 20  # findings spelled out in the text; the JSON fields list them all


class DeliveryFailed(Exception):
    """The webhook did not take the message (one line: where and why)."""


def enabled() -> bool:
    return bool(settings.MESHKB_WEBHOOK_URL)


def _severities() -> set[str]:
    return set(SEVERITIES[: SEVERITIES.index(settings.MESHKB_WEBHOOK_MIN_SEVERITY) + 1])


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions; cluster-derived text must stay plain text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _item(finding: Finding) -> dict:
    return {
        "rule": finding.rule, "severity": finding.severity, "article": finding.article_slug,
        "resource": {"kind": finding.kind, "namespace": finding.namespace, "name": finding.name},
        "message": finding.message, "url": settings.SITE_URL + finding.get_absolute_url(),
    }


def _previous_status(scan: Scan) -> str | None:
    return (
        Scan.objects.filter(cluster=scan.cluster_id, finished_at__isnull=False, pk__lt=scan.pk)
        .order_by("-pk").values_list("status", flat=True).first()
    )


def _shown(findings, suppressions) -> list[Finding]:
    """Unsuppressed findings, most severe first."""
    kept = [f for f in findings if not f.suppressed_by(suppressions)]
    return sorted(kept, key=lambda f: (SEVERITIES.index(f.severity), f.rule, f.namespace, f.name))


def news(scan: Scan) -> dict | None:
    """The message for a finished scan, or None when it changed nothing worth telling."""
    if not scan.finished:
        return None
    cluster = scan.cluster
    was = _previous_status(scan)
    severities = _severities()
    suppressions = cluster.active_suppressions()
    opened = _shown(Finding.objects.filter(cluster=cluster, first_seen_scan=scan, resolved_at__isnull=True,
                                           severity__in=severities), suppressions)
    resolved = _shown(Finding.objects.filter(cluster=cluster, resolved_in_scan=scan, severity__in=severities),
                      suppressions)
    failing = scan.status == Scan.FAILED and was != Scan.FAILED
    recovered = scan.status != Scan.FAILED and was == Scan.FAILED
    if not (opened or resolved or failing or recovered):
        return None

    url = settings.SITE_URL + cluster.get_absolute_url()
    name = _slack_escape(cluster.name)
    if failing:
        headline = f"meshkb: scans of cluster {name} are failing: {_slack_escape(scan.error)}"
    else:
        parts = []
        if opened:
            parts.append(f"{len(opened)} new finding{'s' if len(opened) != 1 else ''}")
        if resolved:
            parts.append(f"{len(resolved)} resolved")
        if recovered:
            parts.append("scans work again")
        headline = f"meshkb: cluster {name}: " + ", ".join(parts)
        if scan.status == Scan.PARTIAL:
            headline += " (partial scan: some kinds could not be read)"
    lines = [f"{headline} — {url}"]
    for label, findings in (("new", opened), ("resolved", resolved)):
        for finding in findings[:MAX_LISTED]:
            lines.append(f"• {label} {finding.severity.upper()} {finding.rule} {_slack_escape(finding.resource_label)}: "
                         f"{_slack_escape(finding.message[:200])}")
        if len(findings) > MAX_LISTED:
            lines.append(f"• … and {len(findings) - MAX_LISTED} more {label}")
    return {
        "text": "\n".join(lines),
        "cluster": cluster.name, "url": url, "scan": {"status": scan.status, "error": scan.error,
                                                       "finished_at": scan.finished_at.isoformat()},
        "new": [_item(f) for f in opened], "resolved": [_item(f) for f in resolved],
    }


def deliver(payload: dict) -> None:
    """POST the message; a refusal or an unreachable hook is one line, and retrying is the caller's choice."""
    url = settings.MESHKB_WEBHOOK_URL
    try:
        response = requests.post(url, json=payload, timeout=settings.MESHKB_WEBHOOK_TIMEOUT_SECONDS,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"webhook {_host(url)}: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"webhook {_host(url)}: HTTP {response.status_code}")


def _host(url: str) -> str:
    # The URL's path often holds the hook's secret (Slack, Teams): name only the host in errors.
    return url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]


def send_for(scan: Scan) -> bool:
    """Send a finished scan's news if there is any, once; True when something was sent."""
    if not enabled():
        return False
    payload = news(scan)
    if payload is None:
        return False
    # Claimed by a conditional UPDATE, so a task delivered twice or a CLI run racing a worker
    # never posts the same news twice; a failed delivery gives the claim back for the retry.
    if not Scan.objects.filter(pk=scan.pk, notified_at__isnull=True).update(notified_at=timezone.now()):
        return False
    try:
        deliver(payload)
    except DeliveryFailed:
        Scan.objects.filter(pk=scan.pk).update(notified_at=None)
        raise
    return True
