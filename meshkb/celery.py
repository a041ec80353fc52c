"""The Celery app: workers run cluster scans, beat dispatches the due ones every minute."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meshkb.settings")

app = Celery("meshkb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The filesystem broker needs its folders before a worker, beat or the web app touch it.
for folder in (app.conf.broker_transport_options or {}).values():
    if isinstance(folder, str) and app.conf.broker_url.startswith("filesystem://"):
        os.makedirs(folder, exist_ok=True)
