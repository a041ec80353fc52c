"""Connected clusters, their scans and the life of each finding."""

from __future__ import annotations

import gzip
import hashlib
from datetime import timedelta

import yaml
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from troubleshooting.clusters import crypto
from troubleshooting.clusters import kubeconfig as kubeconfigs

SEVERITIES = ("error", "warning", "info")
SEVERITY_WEIGHT = {"error": 20.0, "warning": 5.0, "info": 1.0}  # points off a score of 100
MAX_BACKOFF = timedelta(hours=6)


class Cluster(models.Model):
    """A Kubernetes cluster meshkb scans: reached by kubeconfig, from inside, or from a dump."""

    KUBECONFIG, IN_CLUSTER, SNAPSHOT = "kubeconfig", "in-cluster", "snapshot"
    SOURCES = [(KUBECONFIG, "Kubeconfig"), (IN_CLUSTER, "In-cluster service account"), (SNAPSHOT, "Uploaded snapshot")]

    name = models.SlugField(max_length=63, unique=True)
    source = models.CharField(max_length=16, choices=SOURCES)
    context = models.CharField(max_length=253, blank=True)
    # The reduced kubeconfig (one context), Fernet-encrypted; never shown on any page or API.
    kubeconfig_encrypted = models.TextField(blank=True, editable=False)
    snapshot_gz = models.BinaryField(blank=True, null=True, editable=False)
    snapshot_name = models.CharField(max_length=255, blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    snapshot_uploaded_at = models.DateTimeField(null=True, blank=True)
    scan_interval = models.PositiveIntegerField(default=15, help_text="minutes between scans")
    enabled = models.BooleanField(default=True)
    next_scan_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A scan in progress holds the cluster until this time; a dead worker's claim expires.
    lease_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cluster", args=[self.name])

    # --- credentials and snapshot --------------------------------------------------------

    def set_kubeconfig(self, config: dict) -> None:
        """Store a kubeconfig already reduced by ``kubeconfig.minimal``."""
        self.kubeconfig_encrypted = crypto.encrypt(yaml.safe_dump(config, sort_keys=False))

    def kubeconfig(self) -> dict:
        """Decrypt and re-check the stored kubeconfig (it may predate a stricter setting)."""
        config = yaml.safe_load(crypto.decrypt(self.kubeconfig_encrypted))
        reduced, _ = kubeconfigs.minimal(
            config, self.context or None, allow_plugins=settings.MESHKB_ALLOW_KUBECONFIG_PLUGINS
        )
        return reduced

    def set_snapshot(self, data: bytes, name: str) -> None:
        self.snapshot_gz = gzip.compress(data, compresslevel=6)
        self.snapshot_name = name[:255]
        self.snapshot_sha256 = hashlib.sha256(data).hexdigest()
        self.snapshot_uploaded_at = timezone.now()

    def snapshot_bytes(self) -> bytes:
        return gzip.decompress(bytes(self.snapshot_gz or b""))

    # --- scheduling ------------------------------------------------------------------------

    @classmethod
    def due(cls, now=None):
        now = now or timezone.now()
        return cls.objects.filter(enabled=True).filter(Q(next_scan_at__isnull=True) | Q(next_scan_at__lte=now))

    def claim(self, *, trigger: str, now=None, respect_schedule: bool = True) -> "Scan | None":
        """Claim the cluster for one scan with a conditional UPDATE; None if someone else holds it.

        Two dispatchers (double beat ticks, several workers, "Scan now" twice) race on the
        same row; only one UPDATE matches, so only one Scan is created.
        """
        now = now or timezone.now()
        lease = now + timedelta(seconds=settings.MESHKB_SCAN_LEASE_SECONDS)
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        rows = Cluster.objects.filter(pk=self.pk).filter(free)
        if respect_schedule:
            rows = rows.filter(enabled=True).filter(Q(next_scan_at__isnull=True) | Q(next_scan_at__lte=now))
        with transaction.atomic():
            if rows.update(lease_until=lease, next_scan_at=now + timedelta(minutes=self.scan_interval)) != 1:
                return None
            return Scan.objects.create(cluster=self, trigger=trigger, status=Scan.QUEUED, queued_at=now)

    def release(self, *, failed: bool, now=None) -> None:
        """Give the cluster back after a scan; a cluster that keeps failing backs off."""
        now = now or timezone.now()
        if failed:
            failures = self.consecutive_failures + 1
            delay = min(timedelta(minutes=self.scan_interval) * (2 ** min(failures - 1, 10)), MAX_BACKOFF)
            delay = max(delay, timedelta(minutes=self.scan_interval))
            Cluster.objects.filter(pk=self.pk).update(
                lease_until=None, consecutive_failures=F("consecutive_failures") + 1, next_scan_at=now + delay
            )
        else:
            Cluster.objects.filter(pk=self.pk).update(lease_until=None, consecutive_failures=0)

    # --- state -----------------------------------------------------------------------------

    def latest_scan(self) -> "Scan | None":
        return self.scans.exclude(status__in=[Scan.QUEUED, Scan.RUNNING]).order_by("-queued_at", "-pk").first()

    def active_scan(self) -> "Scan | None":
        return self.scans.filter(status__in=[Scan.QUEUED, Scan.RUNNING]).order_by("-queued_at", "-pk").first()

    def active_suppressions(self, now=None) -> list["Suppression"]:
        now = now or timezone.now()
        return list(self.suppressions.filter(expires_at__gt=now))


class Scan(models.Model):
    QUEUED, RUNNING, SUCCEEDED, PARTIAL, FAILED = "queued", "running", "succeeded", "partial", "failed"
    STATUSES = [(s, s) for s in (QUEUED, RUNNING, SUCCEEDED, PARTIAL, FAILED)]
    FINISHED = (SUCCEEDED, PARTIAL, FAILED)

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="scans")
    status = models.CharField(max_length=16, choices=STATUSES, default=QUEUED, db_index=True)
    trigger = models.CharField(max_length=16, default="schedule")  # schedule, manual, cli
    queued_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)  # one line, for a failed scan
    kind_errors = models.JSONField(default=dict, blank=True)  # kind -> one-line reason (partial scans)
    warnings = models.JSONField(default=list, blank=True)
    scanned = models.JSONField(default=dict, blank=True)  # kind -> object count
    istio_versions = models.JSONField(default=list, blank=True)
    istio_revisions = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)  # severity -> open findings after this scan
    new_findings = models.PositiveIntegerField(default=0)
    resolved_findings = models.PositiveIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)  # its news went to the webhook

    class Meta:
        ordering = ["-queued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.cluster} scan {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    def start(self, now=None) -> bool:
        """queued -> running, once; False when another worker already started it."""
        now = now or timezone.now()
        return Scan.objects.filter(pk=self.pk, status=self.QUEUED).update(status=self.RUNNING, started_at=now) == 1

    def total_findings(self) -> int:
        return sum(self.counts.get(s, 0) for s in SEVERITIES)

    @classmethod
    def reap_abandoned(cls, now=None) -> int:
        """Fail scans whose worker died: still queued or running after their cluster's lease ran out."""
        now = now or timezone.now()
        stale = cls.objects.filter(status__in=[cls.QUEUED, cls.RUNNING]).filter(
            Q(cluster__lease_until__isnull=True) | Q(cluster__lease_until__lt=now)
        )
        return stale.update(
            status=cls.FAILED, finished_at=now, error="the worker running this scan stopped before it finished"
        )

    @classmethod
    def prune(cls, days: int, now=None) -> int:
        """Delete finished scans older than ``days``, always keeping each cluster's latest one."""
        now = now or timezone.now()
        latest = (
            cls.objects.filter(cluster=models.OuterRef("cluster"), status__in=cls.FINISHED)
            .order_by("-queued_at", "-pk")
            .values("pk")[:1]
        )
        old = cls.objects.filter(status__in=cls.FINISHED, queued_at__lt=now - timedelta(days=days)).exclude(
            pk=models.Subquery(latest)
        )
        deleted, _ = old.delete()
        Finding.objects.filter(resolved_at__lt=now - timedelta(days=days)).delete()
        return deleted


class Finding(models.Model):
    """One problem on one cluster, followed across scans by its fingerprint."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="findings")
    fingerprint = models.CharField(max_length=64)
    rule = models.CharField(max_length=16, db_index=True)
    article_slug = models.SlugField(max_length=100, db_index=True)
    severity = models.CharField(max_length=8)
    kind = models.CharField(max_length=64)
    namespace = models.CharField(max_length=253, blank=True)
    name = models.CharField(max_length=253)
    message = models.TextField()
    data = models.JSONField(default=dict)  # the finding as `scan -o json` prints it
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    first_seen_scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_seen_scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_in_scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["article_slug", "namespace", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "fingerprint"], name="finding_fingerprint_unique")]
        indexes = [
            models.Index(fields=["cluster", "resolved_at"]),
            # The cluster page reads the first open findings of each failure in display order.
            models.Index(
                fields=["cluster", "article_slug", "namespace", "name", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="finding_open_display",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.kind} {self.namespace}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("finding", args=[self.cluster.name, self.fingerprint])

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def resource_label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def remediation(self) -> dict:
        return self.data.get("remediation") or {}

    def suppressed_by(self, suppressions: list["Suppression"]) -> "Suppression | None":
        return next((s for s in suppressions if s.matches(self)), None)


class Suppression(models.Model):
    """Hide a finding, or a rule in a namespace, until a date; findings come back after it."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="suppressions")
    rule = models.CharField(max_length=16)
    namespace = models.CharField(max_length=253, blank=True)  # with no fingerprint: the rule in this namespace
    fingerprint = models.CharField(max_length=64, blank=True)  # one finding
    reason = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["expires_at"]

    def __str__(self) -> str:
        return f"{self.rule} {self.fingerprint or self.namespace or '*'} until {self.expires_at:%Y-%m-%d}"

    def matches(self, finding: Finding) -> bool:
        if self.fingerprint:
            return finding.fingerprint == self.fingerprint
        return finding.rule == self.rule and (not self.namespace or finding.namespace == self.namespace)

    @staticmethod
    def covering(suppressions: list["Suppression"]) -> Q | None:
        """A filter for the findings these suppressions hide, or None when there are none."""
        condition = None
        for suppression in suppressions:
            if suppression.fingerprint:
                part = Q(cluster_id=suppression.cluster_id, fingerprint=suppression.fingerprint)
            else:
                part = Q(cluster_id=suppression.cluster_id, rule=suppression.rule)
                if suppression.namespace:
                    part &= Q(namespace=suppression.namespace)
            condition = part if condition is None else condition | part
        return condition

    @property
    def scope(self) -> str:
        if self.fingerprint:
            return "this finding"
        return f"{self.rule} in namespace {self.namespace}" if self.namespace else f"{self.rule} everywhere"
