#!/usr/bin/env python
"""Render time of a cluster page with 10,000 open findings (and the overview and findings API).

    .venv/bin/python benchmarks/cluster_page_benchmark.py [--findings 10000] [--runs 40]
    .venv/bin/python benchmarks/cluster_page_benchmark.py --database-url postgres://postgres@127.0.0.1:5432/meshkb_bench

Target: p95 <= 150 ms for the cluster page. Not part of `make test` (the test suite checks instead
that the number of SQL queries does not grow with the number of findings).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RULES = [  # (rule, article, severity, kind)
    ("MKB-107", "sidecar-not-injected", "warning", "Pod"),
    ("MKB-109", "port-naming-protocol-selection", "info", "Service"),
    ("MKB-106", "no-healthy-upstream-uh", "error", "DestinationRule"),
    ("MKB-105", "subset-not-found", "error", "VirtualService"),
    ("MKB-103", "virtualservice-gateway-host-mismatch", "warning", "VirtualService"),
    ("MKB-001", "app-starts-before-sidecar-ready", "error", "Deployment"),
    ("MKB-004", "server-first-protocol-port-conflict", "error", "Service"),
    ("MKB-005", "long-connection-without-keepalive", "warning", "ServiceEntry"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    from _common import fresh_schema, percentile, use_database

    use_database(args.database_url)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from troubleshooting.models import Cluster, Finding, Scan

    fresh_schema()
    call_command("loadarticles", verbosity=0, stdout=io.StringIO())
    now = timezone.now()
    cluster = Cluster.objects.create(name="big", source=Cluster.IN_CLUSTER)
    scans = [Scan.objects.create(cluster=cluster, status=Scan.SUCCEEDED, queued_at=now, finished_at=now,
                                 counts={"error": 4000, "warning": 4000, "info": 2000}) for _ in range(12)]
    latest = scans[-1]
    findings = []
    for i in range(args.findings):
        rule, article, severity, kind = RULES[i % len(RULES)]
        findings.append(Finding(
            cluster=cluster, fingerprint=f"{i:024x}", rule=rule, article_slug=article, severity=severity, kind=kind,
            namespace=f"team-{i % 120}", name=f"workload-{i}", message=f"{kind} team-{i % 120}/workload-{i}: {article}",
            data={"rule": rule, "remediation": {"yaml": "kind: Example\n"}}, first_seen_at=now, last_seen_at=now,
            first_seen_scan=latest if i % 10 == 0 else scans[0], last_seen_scan=latest,
        ))
    Finding.objects.bulk_create(findings, batch_size=2000)
    get_user_model().objects.create_user("bench", password="bench")
    client = Client()
    client.login(username="bench", password="bench")

    print(f"database: {connection.vendor}; {args.findings:,} open findings in {len(RULES)} failures; {args.runs} runs")
    print(f"{'page':<24} {'queries':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for label, url in (("cluster page", "/clusters/big/"), ("overview", "/clusters/"),
                       ("findings API", "/api/v1/clusters/big/findings")):
        assert client.get(url).status_code == 200  # warm up
        reset_queries()  # each request clears the query log: start the count from zero
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        count = len(queries)  # now: later requests reset the log that `queries` slices
        timings = []
        for _ in range(args.runs):
            begin = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200
        print(f"{label:<24} {count:>8} {statistics.median(timings):>8.1f} {percentile(timings, 0.95):>8.1f}")


if __name__ == "__main__":
    main()
