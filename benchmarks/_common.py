"""Database set-up and statistics shared by the benchmark scripts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def use_database(url: str | None) -> str:
    """Point Django at ``url`` (a temporary SQLite file by default), creating a PostgreSQL database if missing."""
    if not url:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='meshkb-bench-')) / 'bench.sqlite3'}"
    elif url.startswith(("postgres://", "postgresql://")):
        import dj_database_url
        import psycopg

        config = dj_database_url.parse(url)
        admin = dict(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], password=config["PASSWORD"])
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{config["NAME"]}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshkb.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="meshkb-bench-static-"))
    return url


def fresh_schema() -> None:
    """Migrate, then empty every table (a PostgreSQL database may hold an earlier run)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
