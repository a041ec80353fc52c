"""Test settings: the real meshkb settings with a fixed key and a fast password hasher."""

import os

os.environ.setdefault("SECRET_KEY", "meshkb-tests-only")

from meshkb.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# No collectstatic in tests: serve static files from the app and project folders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
