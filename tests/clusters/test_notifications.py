"""Webhook notifications: what a scan changed reaches a real local HTTP receiver, once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.clusters.conftest import connect
from troubleshooting.clusters import notify, scanning
from troubleshooting.models import Scan, Suppression


def scan_and_notify(cluster):
    scan = scanning.execute(scanning.scan_now(cluster))
    notify.send_for(scan)
    return scan


def test_the_first_scan_posts_its_new_findings_with_links(db, seeded, receiver):
    cluster = connect("prod", seeded)
    scan_and_notify(cluster)

    [body] = receiver.bodies
    rules = {item["rule"] for item in body["new"]}
    assert {"MKB-002", "MKB-003", "MKB-004"} <= rules
    assert all(item["severity"] in ("error", "warning") for item in body["new"])  # info is below the threshold
    assert body["text"].startswith(f"meshkb: cluster prod: {len(body['new'])} new findings")
    assert "MKB-003 Gateway default/test2" in body["text"]
    assert body["new"][0]["url"].startswith("http") and "/clusters/prod/findings/" in body["new"][0]["url"]


def test_a_scan_that_changes_nothing_sends_nothing(db, seeded, receiver):
    cluster = connect("prod", seeded)
    scan_and_notify(cluster)
    scan_and_notify(cluster)

    assert len(receiver.bodies) == 1


def test_a_fix_is_announced_as_resolved(db, seeded, receiver):
    cluster = connect("prod", seeded)
    scan_and_notify(cluster)
    seeded.store["Service"].pop(("default", "my-externalname"))  # the ExternalName hijack is gone

    scan_and_notify(cluster)

    resolved = receiver.bodies[-1]["resolved"]
    assert [(r["rule"], r["resource"]["name"]) for r in resolved] == [("MKB-002", "my-externalname")]
    assert "1 resolved" in receiver.bodies[-1]["text"]


def test_suppressed_findings_are_not_announced(db, seeded, receiver, alice):
    cluster = connect("prod", seeded)
    Suppression.objects.create(cluster=cluster, rule="MKB-003", reason="migrating", author=alice,
                               expires_at=timezone.now() + timedelta(days=3))
    scan_and_notify(cluster)

    assert "MKB-003" not in {item["rule"] for item in receiver.bodies[0]["new"]}


def test_a_cluster_that_starts_failing_is_announced_once_and_so_is_its_recovery(db, seeded, receiver):
    cluster = connect("prod", seeded)
    scan_and_notify(cluster)
    token, seeded.token = seeded.token, "rotated-token"
    scan_and_notify(cluster)
    scan_and_notify(cluster)  # still failing: nothing new to say
    seeded.token = token
    scan_and_notify(cluster)

    texts = [body["text"] for body in receiver.bodies]
    assert len(texts) == 3
    assert texts[1].startswith("meshkb: scans of cluster prod are failing:") and receiver.bodies[1]["scan"]["status"] == "failed"
    assert texts[2].startswith("meshkb: cluster prod: scans work again")


def test_a_refused_delivery_is_one_line_without_the_secret_and_can_be_retried(db, seeded, receiver):
    cluster = connect("prod", seeded)
    receiver.status = 500
    scan = scanning.execute(scanning.scan_now(cluster))

    with pytest.raises(notify.DeliveryFailed, match=r"^webhook 127\.0\.0\.1:\d+: HTTP 500$"):
        notify.send_for(scan)
    receiver.status = 200
    assert notify.send_for(scan) is True
    assert notify.send_for(scan) is False  # sent once, never twice
    assert len(receiver.bodies) == 2 and Scan.objects.get(pk=scan.pk).notified_at is not None


def test_an_unreachable_webhook_does_not_fail_scanclusters(db, seeded, settings):
    settings.MESHKB_WEBHOOK_URL = "http://127.0.0.1:9/hook"  # the discard port: nothing listens
    connect("prod", seeded)
    out, err = StringIO(), StringIO()

    call_command("scanclusters", "--cluster", "prod", stdout=out, stderr=err)

    assert "prod: succeeded" in out.getvalue()
    assert err.getvalue().strip() == "prod: could not notify: webhook 127.0.0.1:9: ConnectionError"


def test_without_a_webhook_nothing_is_sent(db, seeded, settings):
    settings.MESHKB_WEBHOOK_URL = ""
    scan = scanning.execute(scanning.scan_now(connect("prod", seeded)))

    assert notify.send_for(scan) is False and Scan.objects.get(pk=scan.pk).notified_at is None
