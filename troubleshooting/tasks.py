"""Celery tasks: thin wrappers around troubleshooting.clusters.scanning."""

from celery import shared_task
from django.conf import settings

from troubleshooting.clusters import scanning
from troubleshooting.models import Scan


@shared_task
def dispatch_due_scans() -> int:
    """Beat runs this every minute: queue one scan per due cluster."""
    return len(scanning.dispatch_due(enqueue=lambda scan: run_scan.delay_on_commit(scan.pk)))


@shared_task
def run_scan(scan_id: int) -> str:
    scan = Scan.objects.select_related("cluster").filter(pk=scan_id).first()
    if scan is None:
        return "gone"
    return scanning.execute(scan).status


@shared_task
def prune_scan_history() -> int:
    return Scan.prune(settings.MESHKB_SCAN_HISTORY_DAYS)
