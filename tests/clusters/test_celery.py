"""The Celery wiring, with a real worker on a real broker (Redis in CI)."""

import time
from datetime import timedelta

from django.utils import timezone

from tests.clusters.conftest import connect
from troubleshooting.models import Cluster, Finding, Scan
from troubleshooting.tasks import dispatch_due_scans


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def test_beat_dispatch_scans_only_due_clusters_and_the_worker_stores_findings(celery_worker, seeded):
    due = connect("due", seeded)
    later = connect("later", seeded)
    Cluster.objects.filter(pk=later.pk).update(next_scan_at=timezone.now() + timedelta(minutes=10))
    dispatch_due_scans.delay()
    wait_for(lambda: Scan.objects.filter(cluster=due, status="succeeded").exists())
    assert not Scan.objects.filter(cluster=later).exists()
    assert Finding.objects.filter(cluster=due, rule="MKB-003").exists()
    assert Cluster.objects.get(pk=due.pk).lease_until is None


def test_two_dispatches_at_once_produce_one_scan(celery_worker, seeded):
    cluster = connect("prod", seeded)
    for _ in range(2):  # a double beat tick, or two beats by mistake
        dispatch_due_scans.delay()
    wait_for(lambda: Scan.objects.filter(cluster=cluster, status__in=Scan.FINISHED).exists())
    time.sleep(1.0)  # let the second dispatch run too
    assert Scan.objects.filter(cluster=cluster).count() == 1


def test_the_worker_posts_what_a_scan_found_to_the_webhook(celery_worker, seeded, receiver):
    cluster = connect("prod", seeded)
    dispatch_due_scans.delay()
    wait_for(lambda: receiver.bodies)
    assert receiver.bodies[0]["cluster"] == "prod" and receiver.bodies[0]["new"]
    assert Scan.objects.get(cluster=cluster).notified_at is not None


def test_the_schedule_runs_dispatch_every_minute():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-due-scans"]
    assert entry["task"] == "troubleshooting.tasks.dispatch_due_scans" and entry["schedule"] == 60.0
    assert entry["options"]["expires"] < 60
