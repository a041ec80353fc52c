"""MKB-114: istio-proxy running for minutes without becoming ready."""

import datetime as dt

from tests.scanner.support import docs_from_yaml, run

BASE = """
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
spec: {containers: [{name: api}, {name: istio-proxy}]}
status:
  phase: Running
  containerStatuses:
  - name: istio-proxy
    ready: false
    restartCount: 0
    state: {running: {startedAt: "2024-05-01T10:00:00Z"}}
  - name: api
    ready: true
    state: {running: {startedAt: "2024-05-01T10:00:01Z"}}
"""
NOW = dt.datetime(2024, 5, 1, 10, 20, tzinfo=dt.timezone.utc)


def test_a_proxy_not_ready_for_20_minutes_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-114", now=NOW)
    assert str(f.resource) == "Pod shop/api-1"
    assert f.evidence["pods"][0]["minutes_not_ready"] == 20


def test_a_proxy_that_just_started_is_given_time():
    assert run(docs_from_yaml(BASE), "MKB-114", now=NOW - dt.timedelta(minutes=17)) == []


def test_a_ready_proxy_is_fine():
    assert run(docs_from_yaml(BASE.replace("ready: false", "ready: true")), "MKB-114", now=NOW) == []


def test_without_a_clock_the_newest_timestamp_in_the_snapshot_is_now():
    assert run(docs_from_yaml(BASE), "MKB-114") == []  # 10:00:01 is the latest time seen
