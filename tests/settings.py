"""Test settings: the real meshkb settings with a fixed key and a fast password hasher."""

import os

os.environ.setdefault("SECRET_KEY", "meshkb-tests-only")

from meshkb.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# SQLite tests use a file, not the shared in-memory database: its table locks do not wait for
# each other, while a file database in WAL mode waits (busy timeout) like production does.
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and not os.getenv("TEST_SQLITE_NAME"):
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"meshkb-test-{os.getpid()}.sqlite3")}

# No collectstatic in tests: serve static files from the app and project folders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# A second database of the other kind, so one run can compare search results across
# SQLite and PostgreSQL: PostgreSQL beside a SQLite run (when reachable, always in CI),
# SQLite beside a PostgreSQL run. MESHKB_TEST_OTHER_DATABASE_URL overrides it.
import dj_database_url  # noqa: E402

from tests.services import listening  # noqa: E402

_other_url = os.getenv("MESHKB_TEST_OTHER_DATABASE_URL")
if not _other_url:
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        if os.getenv("CI", "").lower() == "true" or listening(5432):
            _other_url = "postgres://postgres@127.0.0.1:5432/test"
    else:
        _other_url = "sqlite://:memory:"
if _other_url:
    DATABASES["other"] = dj_database_url.parse(_other_url)
    # Named per process: two suites on one machine (a developer's run beside CI's) must not drop each other's.
    DATABASES["other"]["TEST"] = {"NAME": f"test_meshkb_other_{os.getpid()}" if "postgres" in _other_url else None}
