#!/usr/bin/env python
"""Search latency with the real catalog plus 10,000 generated articles.

    .venv/bin/python benchmarks/search_benchmark.py                      # SQLite (a temporary file)
    .venv/bin/python benchmarks/search_benchmark.py --database-url postgres://postgres@127.0.0.1:5432/meshkb_bench

Reports p50/p95 of the search function and of the API view (POST /api/v1/search through
Django's test client) for pastes of about 100 B, 2 KB and 20 KB. Target: p95 <= 30 ms
for a 2 KB paste on SQLite with 10k articles. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

LOG_LINES = [
    '[{ts}] "GET /api/v1/orders/{n} HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{{connection_failure}} - "-" 0 91 3 - "-" "curl/7.81.0" "{uuid}" "orders:8080" "10.244.{a}.{b}:8080" outbound|8080||orders.shop.svc.cluster.local - 10.96.{a}.{b}:8080 10.244.0.5:44226 - default',
    "{ts}\twarn\tenvoy config\tgRPC config for type.googleapis.com/envoy.config.listener.v3.Listener rejected: Error adding/updating listener(s) 0.0.0.0_8443: duplicate filter chain",
    "{ts}\tinfo\tads\tPush debounce stable[{n}] 3 for config ServiceEntry/shop/payments-{n}: 100.1ms since last change",
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    "curl: (35) OpenSSL SSL_connect: Connection reset by peer in connection to shop.example.com:443",
    "{ts}\twarning\tenvoy main\tcaught ENVOY_SIGTERM",
    "payments-v2-7f99cc4496-gdxfn   1/2   Running   3 (2m ago)   14m   10.244.{a}.{b}   node-{n}",
    "Warning  Unhealthy  2m (x{n} over 9m)  kubelet  Readiness probe failed: HTTP probe failed with statuscode: 503",
    "{ts}\tinfo\txdsproxy\tconnected to upstream XDS server: istiod.istio-system.svc:15012",
]
FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split()


def paste(size: int, rng: random.Random) -> str:
    lines = []
    while sum(len(line) + 1 for line in lines) < size:
        template = rng.choice(LOG_LINES)
        lines.append(
            template.format(
                ts=f"2026-11-25T10:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}.{rng.randint(0, 999):03}Z",
                n=rng.randint(1, 999), a=rng.randint(0, 255), b=rng.randint(0, 255),
                uuid="%08x-%04x-%04x-%04x-%012x" % tuple(rng.getrandbits(bits) for bits in (32, 16, 16, 16, 48)),
            )
        )
    return "\n".join(lines)[:size]


def generated_sources(count: int, vocabulary: list[str], rng: random.Random):
    from troubleshooting.catalog.parser import ArticleSource, Snippet
    from troubleshooting.catalog.vocabulary import CATEGORIES, COMPONENTS, RESPONSE_FLAGS, SEEN_IN, SEVERITIES

    def words(n: int) -> str:
        # Zipf-like: common words often, rare ones seldom, plus words no other article has.
        picked = [vocabulary[min(int(rng.paretovariate(1.1)) - 1, len(vocabulary) - 1)] for _ in range(n)]
        picked.append(f"synthetic{rng.randint(0, 10 * count)}")
        return " ".join(picked)

    for number in range(count):
        slug = f"generated-failure-{number:05d}"
        sections = {key: words(rng.randint(80, 160)) + "\n" for key in ("symptoms", "diagnosis", "root_cause", "fix", "references")}
        yield ArticleSource(
            path=f"<generated>/{slug}.md", slug=slug, title=words(8), summary="This failure occurs when " + words(40),
            category=rng.choice(list(CATEGORIES)), severity=rng.choice(list(SEVERITIES)),
            components=rng.sample(list(COMPONENTS), 2), istio_versions=[],
            symptoms=[{"text": words(rng.randint(6, 14)), "seen_in": rng.choice(list(SEEN_IN)), "note": ""} for _ in range(6)],
            analyzer_codes=[f"IST0{rng.randint(101, 177)}"], response_flags=rng.sample(list(RESPONSE_FLAGS), 2),
            related=[], references=[{"title": "ref", "url": "https://istio.io/"}], sections=sections,
            snippets=[Snippet("fix", "", "yaml", "kind: Example", 1)], source_hash=f"generated-{number}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--articles", type=int, default=10_000, help="generated articles (default 10000)")
    parser.add_argument("--runs", type=int, default=60, help="queries per paste size (default 60)")
    args = parser.parse_args()

    from _common import fresh_schema, percentile, use_database

    use_database(args.database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from troubleshooting.catalog.parser import parse_catalog
    from troubleshooting.models import Article
    from troubleshooting.search.engine import index_stats, search
    from troubleshooting.search.normalize import normalize

    fresh_schema()
    rng = random.Random(20261125)
    real = parse_catalog(settings.ARTICLE_DIRS)
    vocabulary = sorted({t for a in real for t in normalize(" ".join(a.sections.values()), limit=10**7).tokens})
    rng.shuffle(vocabulary)
    started = time.perf_counter()
    Article.objects.sync(real + list(generated_sources(args.articles, vocabulary, rng)))
    print(f"database: {connection.vendor}; loaded {index_stats()} in {time.perf_counter() - started:.1f} s")

    client = Client()
    print(f"{'paste':>8} {'function p50':>13} {'p95':>8} {'API p50':>10} {'p95':>8}   (ms, {args.runs} runs each)")
    for size in (100, 2_000, 20_000):
        pastes = [paste(size, rng) for _ in range(args.runs)]
        search(pastes[0])  # warm caches
        timings = {"function": [], "api": []}
        for text in pastes:
            begin = time.perf_counter()
            search(text)
            timings["function"].append((time.perf_counter() - begin) * 1000)
            begin = time.perf_counter()
            response = client.post("/api/v1/search", {"q": text})
            timings["api"].append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, response.content[:200]
        f, a = timings["function"], timings["api"]
        print(
            f"{size:>7}B {statistics.median(f):>13.1f} {percentile(f, 0.95):>8.1f} "
            f"{statistics.median(a):>10.1f} {percentile(a, 0.95):>8.1f}"
        )


if __name__ == "__main__":
    main()
