import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_ensureadmin_creates_one_superuser_from_the_environment(db, django_user_model, monkeypatch):
    monkeypatch.setenv("MESHKB_ADMIN_USERNAME", "root-admin")
    monkeypatch.setenv("MESHKB_ADMIN_PASSWORD", "s3cret-enough")
    out = StringIO()
    call_command("ensureadmin", stdout=out)
    assert out.getvalue() == "Created admin user 'root-admin' with the password from MESHKB_ADMIN_PASSWORD.\n"
    user = django_user_model.objects.get()
    assert user.is_superuser and user.check_password("s3cret-enough")
    out = StringIO()
    call_command("ensureadmin", stdout=out)
    assert django_user_model.objects.count() == 1
    assert out.getvalue().startswith("Log in as 'root-admin'")


def test_ensureadmin_generates_a_password_and_keeps_it_private(db, django_user_model, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("MESHKB_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("MESHKB_ADMIN_USERNAME", raising=False)
    settings.BASE_DIR = tmp_path
    out = StringIO()
    call_command("ensureadmin", stdout=out)
    saved = (tmp_path / "var" / "admin-credentials.txt")
    password = saved.read_text().split("password: ")[1].strip()
    assert django_user_model.objects.get(username="admin").check_password(password)
    assert password in out.getvalue()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


def test_the_admin_shows_articles_read_only(client, demo_catalog, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", password="boss-password")
    client.force_login(admin)
    changelist = client.get(reverse("admin:troubleshooting_article_changelist"))
    assert changelist.status_code == 200 and b"Demo gateway drops a TLS server" in changelist.content
    from troubleshooting.models import Article

    article = Article.objects.get(slug="demo-gateway-failure")
    change = client.get(reverse("admin:troubleshooting_article_change", args=[article.pk]))
    assert b'name="title"' not in change.content  # shown, not editable
    assert client.post(reverse("admin:troubleshooting_article_change", args=[article.pk]), {"title": "x"}).status_code == 403
    article.refresh_from_db()
    assert article.title == "Demo gateway drops a TLS server"


def run_settings_check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "meshkb.settings", **env},
        capture_output=True, text=True, timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    run = run_settings_check()
    assert run.returncode == 1
    assert run.stderr.strip() == (
        "meshkb configuration error: SECRET_KEY is required when DEBUG is off (or set DEBUG=true for development)"
    )


def test_a_bad_setting_is_one_line_naming_the_variable():
    run = run_settings_check(SECRET_KEY="x", DEBUG="maybe")
    assert run.stderr.strip() == "meshkb configuration error: DEBUG must be true or false, not 'maybe'"
    run = run_settings_check(SECRET_KEY="x", DATABASE_URL="mongodb://nope")
    assert run.returncode == 1 and run.stderr.startswith("meshkb configuration error: DATABASE_URL: Scheme 'mongodb://' is unknown")
    run = run_settings_check(SECRET_KEY="x", MESHKB_WEBHOOK_URL="hooks.slack.com/services/T0/B0/x")
    assert run.stderr.strip() == "meshkb configuration error: MESHKB_WEBHOOK_URL: expected an http:// or https:// URL"
    run = run_settings_check(SECRET_KEY="x", MESHKB_WEBHOOK_MIN_SEVERITY="critical")
    assert run.stderr.strip() == (
        "meshkb configuration error: MESHKB_WEBHOOK_MIN_SEVERITY=critical: expected error, warning or info"
    )


def test_the_default_database_is_sqlite_in_wal_mode(db, settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only: this run uses DATABASE_URL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 5000
    assert "journal_mode=WAL" in settings.DATABASES["default"]["OPTIONS"]["init_command"]
