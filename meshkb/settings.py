"""meshkb settings: one file, configured entirely by environment variables.

The defaults run a complete instance on one machine with no services: SQLite in the
project folder and Celery's filesystem broker. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and friends (see README.md).
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


class ImproperlyConfigured(SystemExit):
    """A bad environment variable: exit with one line naming it, not a traceback."""

    def __init__(self, message: str):
        super().__init__(f"meshkb configuration error: {message}")


def envbool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the file named by NAME_FILE (Kubernetes/Docker secrets)."""
    path = os.getenv(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path}: {exc.strerror}") from None
    return os.getenv(name, default)


DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (or set DEBUG=true for development)")
    SECRET_KEY = "meshkb-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "troubleshooting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "troubleshooting.middleware.ApiTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "meshkb.urls"
WSGI_APPLICATION = "meshkb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default, in the project folder: WAL lets the web server read while a worker
# writes, and the busy timeout waits for a lock instead of failing at once.
DATABASE_URL = os.getenv("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'meshkb.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.getenv("TEST_SQLITE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog"
LOGOUT_REDIRECT_URL = "catalog"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", BASE_DIR / "var" / "static"))

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- meshkb ---------------------------------------------------------------------------

# Anyone may read the failure catalog when true; set false to require login for it too.
# Everything about clusters always requires login.
CATALOG_PUBLIC = envbool("CATALOG_PUBLIC", True)

# The bundled articles, plus folders of a team's own articles (comma-separated paths).
ARTICLE_DIRS = [BASE_DIR / "troubleshooting" / "articles"] + [Path(p) for p in envlist("MESHKB_EXTRA_ARTICLE_DIRS")]

# --- clusters and scans -------------------------------------------------------------

# Kubeconfigs are encrypted with Fernet. MESHKB_ENCRYPTION_KEYS is a comma-separated list of
# Fernet keys, newest first: data is written with the first and read with any (see README,
# "Rotating the encryption key"). Without it the key is derived from SECRET_KEY.
MESHKB_ENCRYPTION_KEYS = envlist("MESHKB_ENCRYPTION_KEYS") or [envsecret("MESHKB_ENCRYPTION_KEY") or ""]
# A kubeconfig whose user runs an exec or auth-provider plugin would run a command on this
# server; it is refused unless this is on.
MESHKB_ALLOW_KUBECONFIG_PLUGINS = envbool("MESHKB_ALLOW_KUBECONFIG_PLUGINS", False)
MESHKB_MAX_KUBECONFIG_BYTES = envint("MESHKB_MAX_KUBECONFIG_BYTES", 1024 * 1024)
MESHKB_MAX_SNAPSHOT_BYTES = envint("MESHKB_MAX_SNAPSHOT_BYTES", 256 * 1024 * 1024)
MESHKB_DEFAULT_SCAN_INTERVAL = envint("MESHKB_DEFAULT_SCAN_INTERVAL", 15)  # minutes
MESHKB_SCAN_HISTORY_DAYS = envint("MESHKB_SCAN_HISTORY_DAYS", 30)
# A scan holds its cluster for at most this long; a worker killed mid-scan loses the claim then.
MESHKB_SCAN_LEASE_SECONDS = envint("MESHKB_SCAN_LEASE_SECONDS", 900)
MESHKB_API_TIMEOUT_SECONDS = envint("MESHKB_API_TIMEOUT_SECONDS", 30)
MESHKB_API_PAGE_SIZE = envint("MESHKB_API_PAGE_SIZE", 500)  # objects per list request (limit/continue)
# After each scan, new and resolved findings (and a cluster starting or stopping to fail) are
# posted as JSON with a Slack-compatible "text" field. Off while the URL is empty.
MESHKB_WEBHOOK_URL = os.getenv("MESHKB_WEBHOOK_URL", "").strip()
if MESHKB_WEBHOOK_URL and not MESHKB_WEBHOOK_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("MESHKB_WEBHOOK_URL: expected an http:// or https:// URL")
MESHKB_WEBHOOK_MIN_SEVERITY = os.getenv("MESHKB_WEBHOOK_MIN_SEVERITY", "warning").strip().lower()
if MESHKB_WEBHOOK_MIN_SEVERITY not in ("error", "warning", "info"):
    raise ImproperlyConfigured(
        f"MESHKB_WEBHOOK_MIN_SEVERITY={MESHKB_WEBHOOK_MIN_SEVERITY}: expected error, warning or info"
    )
MESHKB_WEBHOOK_TIMEOUT_SECONDS = envint("MESHKB_WEBHOOK_TIMEOUT_SECONDS", 10)

CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "filesystem://")
CELERY_RESULT_BACKEND = os.getenv("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = MESHKB_SCAN_LEASE_SECONDS - 60
CELERY_TASK_SOFT_TIME_LIMIT = MESHKB_SCAN_LEASE_SECONDS - 120
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-scans": {
        "task": "troubleshooting.tasks.dispatch_due_scans",
        "schedule": 60.0,
        "options": {"expires": 55},  # a tick nobody ran in time is dropped, not piled up
    },
    "prune-scan-history": {"task": "troubleshooting.tasks.prune_scan_history", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: message files on local disk, for one machine and one worker.
    _broker_dir = Path(os.getenv("CELERY_FILESYSTEM_DIR", BASE_DIR / "var" / "celery"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

try:  # git-ignored overrides for one machine
    from .local_settings import *  # noqa: F403
except ImportError:
    pass
