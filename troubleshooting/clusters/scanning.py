"""Run one scan of one cluster and record what it found.

The Celery task, `manage.py scanclusters` and the tests all call these functions, so the
periodic scans and a scan run by hand take exactly the same path:

    dispatch_due()           claim every due cluster (conditional UPDATE) and queue a scan
    execute(scan)            read the cluster, analyse it, store findings atomically
    record(scan, report)     give each finding its life: opened, still open, resolved
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from troubleshooting.clusters.crypto import DecryptionError
from troubleshooting.clusters.kubeconfig import KubeconfigError
from troubleshooting.models import Cluster, Finding, Scan
from troubleshooting.scanner.cluster import ClusterError, ClusterReader
from troubleshooting.scanner.engine import scan as analyse
from troubleshooting.scanner.loaders import LoadError, load_bytes, paused_gc
from troubleshooting.scanner.snapshot import SnapshotBuilder

log = logging.getLogger(__name__)
BATCH = 1000


class ScanFailed(Exception):
    """The cluster could not be read: one line for the scan's error field."""


def api_client_for(cluster: Cluster):
    """An isolated API client for this cluster (never the process-wide default)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        if cluster.source == Cluster.IN_CLUSTER:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            return client.ApiClient(configuration)
        kubeconfig = cluster.kubeconfig()
        configuration = client.Configuration()
        config.load_kube_config_from_dict(
            kubeconfig, context=kubeconfig["current-context"], client_configuration=configuration, persist_config=False
        )
        # One retry: a scan that fails is retried by the schedule, not by stalling a worker.
        configuration.retries = 1
        return client.ApiClient(configuration)
    except (KubeconfigError, DecryptionError) as exc:
        raise ScanFailed(str(exc)) from None
    except ConfigException as exc:
        raise ScanFailed(f"cannot configure the Kubernetes client: {' '.join(str(exc).split())[:300]}") from None


def read(cluster: Cluster):
    """The cluster's snapshot and per-kind errors (kind -> reason)."""
    if cluster.source == Cluster.SNAPSHOT:
        builder = SnapshotBuilder(f"snapshot {cluster.snapshot_name or cluster.name}")
        try:
            load_bytes(cluster.snapshot_bytes(), cluster.snapshot_name or "snapshot", builder)
        except LoadError as exc:
            raise ScanFailed(str(exc)) from None
        return builder.build(now=timezone.now()), {}
    api = api_client_for(cluster)
    try:
        timeout = settings.MESHKB_API_TIMEOUT_SECONDS
        result = ClusterReader(
            api, timeout=(min(10, timeout), timeout), page_size=settings.MESHKB_API_PAGE_SIZE, source=f"cluster {cluster.name}"
        ).read()
    except ClusterError as exc:
        raise ScanFailed(str(exc)) from None
    finally:
        api.close()
    return result.snapshot, result.errors


def execute(scan: Scan) -> Scan:
    """Run a queued scan to the end; never raises for a cluster problem."""
    if not scan.start():
        scan.refresh_from_db()
        return scan  # another worker has it
    cluster = scan.cluster
    began = time.monotonic()
    failed = True
    try:
        with paused_gc():  # reading and analysis build no reference cycles (see loaders.paused_gc)
            snapshot, kind_errors = read(cluster)
            report = analyse(snapshot, base_url=settings.SITE_URL)
        with transaction.atomic():
            record(scan, report, kind_errors)
        failed = False
    except ScanFailed as exc:
        _finish_failed(scan, str(exc), began)
    except SoftTimeLimitExceeded:
        _finish_failed(scan, f"the scan took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} s and was stopped", began)
    except Exception as exc:  # a bug, a timeout: the scan fails with a reason, the worker lives on
        log.exception("scan %s of cluster %s crashed", scan.pk, cluster.name)
        _finish_failed(scan, f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}", began)
    else:
        Scan.objects.filter(pk=scan.pk).update(duration_ms=int((time.monotonic() - began) * 1000))
    finally:
        cluster.release(failed=failed)
    scan.refresh_from_db()
    return scan


def _finish_failed(scan: Scan, error: str, began: float) -> None:
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.FAILED, error=error, finished_at=timezone.now(), duration_ms=int((time.monotonic() - began) * 1000)
    )


def record(scan: Scan, report, kind_errors: dict) -> None:
    """Store the report's findings and move each finding along its life, in one transaction."""
    now = timezone.now()
    cluster = scan.cluster
    partial = bool(kind_errors)
    current = {f.fingerprint: f for f in report.findings}
    known = {f.fingerprint: f for f in Finding.objects.filter(cluster=cluster, fingerprint__in=list(current))}

    created, updated = [], []
    opened = 0
    for fingerprint, found in current.items():
        row = known.get(fingerprint)
        data = found.to_dict()
        fields = dict(
            rule=found.rule, article_slug=found.article, severity=found.severity, kind=found.resource.kind,
            namespace=found.resource.namespace or "", name=found.resource.name, message=found.message, data=data,
            last_seen_at=now, last_seen_scan=scan,
        )
        if row is None:
            created.append(Finding(cluster=cluster, fingerprint=fingerprint, first_seen_at=now, first_seen_scan=scan, **fields))
            opened += 1
            continue
        if row.resolved_at is not None:  # it came back: new again since the previous scan
            row.resolved_at, row.resolved_in_scan, row.first_seen_scan = None, None, scan
            opened += 1
        for key, value in fields.items():
            setattr(row, key, value)
        updated.append(row)
    Finding.objects.bulk_create(created, batch_size=BATCH)
    Finding.objects.bulk_update(
        updated,
        ["rule", "article_slug", "severity", "kind", "namespace", "name", "message", "data", "last_seen_at",
         "last_seen_scan", "resolved_at", "resolved_in_scan", "first_seen_scan"],
        batch_size=BATCH,
    )
    resolved = 0
    if not partial:  # a kind we could not read would make its findings look fixed
        gone = Finding.objects.filter(cluster=cluster, resolved_at__isnull=True).exclude(fingerprint__in=list(current))
        resolved = gone.update(resolved_at=now, resolved_in_scan=scan)

    suppressions = cluster.active_suppressions(now)
    counts = Counter(
        f.severity for f in Finding.objects.filter(cluster=cluster, resolved_at__isnull=True).only(
            "fingerprint", "rule", "namespace", "severity"
        )
        if not f.suppressed_by(suppressions)
    )
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.PARTIAL if partial else Scan.SUCCEEDED,
        finished_at=now,
        kind_errors=kind_errors,
        warnings=list(report.warnings)[:200],
        scanned=report.scanned,
        istio_versions=list(report.versions),
        istio_revisions=list(report.revisions),
        counts={severity: counts.get(severity, 0) for severity in ("error", "warning", "info")},
        new_findings=opened,
        resolved_findings=resolved,
    )


def dispatch_due(now=None, enqueue=None) -> list[Scan]:
    """Claim every due cluster and queue one scan each; returns the scans created.

    ``enqueue(scan)`` sends the scan to a worker; by default the Celery task, after commit.
    """
    now = now or timezone.now()
    Scan.reap_abandoned(now)
    created = []
    for cluster in Cluster.due(now):
        scan = cluster.claim(trigger="schedule", now=now)
        if scan is not None:
            created.append(scan)
            if enqueue is not None:
                enqueue(scan)
    return created


def scan_now(cluster: Cluster, trigger: str = "manual") -> Scan | None:
    """Queue an immediate scan unless one is already running; None if one is."""
    Scan.reap_abandoned()
    return cluster.claim(trigger=trigger, respect_schedule=False)
