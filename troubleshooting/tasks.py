"""Celery tasks: thin wrappers around troubleshooting.clusters.scanning."""

from celery import shared_task
from django.conf import settings

from troubleshooting.clusters import notify, scanning
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
    scan = scanning.execute(scan)
    if notify.enabled():
        notify_scan.delay(scan.pk)  # its own task: a slow or broken webhook never holds a scan
    return scan.status


@shared_task(bind=True, max_retries=3)
def notify_scan(self, scan_id: int) -> bool:
    scan = Scan.objects.select_related("cluster").filter(pk=scan_id).first()
    if scan is None:
        return False
    try:
        return notify.send_for(scan)
    except notify.DeliveryFailed as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from None


@shared_task
def prune_scan_history() -> int:
    return Scan.prune(settings.MESHKB_SCAN_HISTORY_DAYS)
