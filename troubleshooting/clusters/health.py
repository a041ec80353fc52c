"""How healthy each cluster is, computed in a fixed number of queries for any number of findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Case, Count, Value, When
from django.utils import timezone

from troubleshooting.models import SEVERITIES, Cluster, Finding, Scan, Suppression
from troubleshooting.models.clusters import SEVERITY_WEIGHT

TREND_SCANS = 12
# One error is a C, three are an F; a warning or two still earn an A.
GRADES = ((95, "A"), (85, "B"), (70, "C"), (50, "D"), (0, "F"))


@dataclass
class ClusterHealth:
    cluster: Cluster
    latest: Scan | None = None  # the newest finished scan
    active: Scan | None = None  # queued or running now
    counts: dict = field(default_factory=lambda: {s: 0 for s in SEVERITIES})
    suppressed: int = 0
    trend: list = field(default_factory=list)  # finished scans, oldest first

    @property
    def score(self) -> int | None:
        if self.latest is None or self.latest.status == Scan.FAILED:
            return None
        penalty = sum(SEVERITY_WEIGHT[s] * n for s, n in self.counts.items())
        return max(0, round(100 - penalty))

    @property
    def grade(self) -> str:
        score = self.score
        if score is None:
            return "?"
        grade = next(letter for floor, letter in GRADES if score >= floor)
        # A partial scan did not see everything: it can never look healthy.
        return max(grade, "C") if self.latest.status == Scan.PARTIAL else grade

    @property
    def state(self) -> str:
        if self.latest is None:
            return "never scanned"
        if self.latest.status == Scan.FAILED:
            return "scan failed"
        if self.latest.status == Scan.PARTIAL:
            return "partial scan"
        return "healthy" if self.grade == "A" else "needs attention"

    @property
    def last_age(self):
        return timezone.now() - self.latest.finished_at if self.latest and self.latest.finished_at else None

    @property
    def trend_totals(self) -> list[int]:
        return [scan.total_findings() for scan in self.trend if scan.status != Scan.FAILED]


def health_of(clusters: list[Cluster], now=None) -> list[ClusterHealth]:
    now = now or timezone.now()
    by_id = {cluster.pk: ClusterHealth(cluster) for cluster in clusters}
    if not by_id:
        return []
    recent = Scan.objects.filter(cluster_id__in=by_id, queued_at__gte=now - timedelta(days=30)).order_by(
        "cluster_id", "-queued_at", "-pk"
    )
    for scan in recent:
        item = by_id[scan.cluster_id]
        if scan.status in (Scan.QUEUED, Scan.RUNNING):
            item.active = item.active or scan
        elif len(item.trend) < TREND_SCANS:
            item.trend.append(scan)
    missing = [pk for pk, item in by_id.items() if not item.trend]
    if missing:  # clusters whose newest finished scan is older than the window
        for scan in Scan.objects.filter(cluster_id__in=missing, status__in=Scan.FINISHED).order_by("cluster_id", "-queued_at"):
            if not by_id[scan.cluster_id].trend:
                by_id[scan.cluster_id].trend.append(scan)
    for item in by_id.values():
        item.trend.reverse()
        item.latest = item.trend[-1] if item.trend else None

    # Counts by severity, split into shown and suppressed, in one aggregate query.
    active = list(Suppression.objects.filter(cluster_id__in=by_id, expires_at__gt=now))
    hidden = Suppression.covering(active)
    flag = Case(When(hidden, then=Value(1)), default=Value(0)) if hidden is not None else Value(0)
    rows = (
        Finding.objects.filter(cluster_id__in=by_id, resolved_at__isnull=True)
        .annotate(hidden=flag)
        .values("cluster_id", "severity", "hidden")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        item = by_id[row["cluster_id"]]
        if row["hidden"]:
            item.suppressed += row["n"]
        else:
            item.counts[row["severity"]] = item.counts.get(row["severity"], 0) + row["n"]
    return list(by_id.values())
