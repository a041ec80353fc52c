"""A small fixed world for cluster tests: emulated clusters, users, and a Celery worker."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from tests.conftest import IN_CI
from tests.k8s_emulator import k8s_emulator  # noqa: F401  (fixture)
from tests.scanner.support import FIXTURES, fixture_docs
from tests.services import listening
from troubleshooting.clusters import scanning
from troubleshooting.clusters.registry import configure
from troubleshooting.models import Cluster

SEEDS = ["seed1-app-starts-before-sidecar-ready.yaml", "seed2-externalname-hijacks-port.yaml",
         "seed3-gateway-duplicate-tls-host.yaml", "seed4-server-first-port-conflict.yaml",
         "seed5-long-connection-without-keepalive.yaml"]


def seeds_text() -> str:
    return "\n---\n".join((FIXTURES / name).read_text() for name in SEEDS)


SEED_PODS = sum(1 for name in SEEDS for d in fixture_docs(name) if d.get("kind") == "Pod")


def connect(name: str, emu, **kw) -> Cluster:
    """A cluster added the way the form and addcluster add one: from a kubeconfig."""
    return configure(Cluster(name=name, **kw), source=Cluster.KUBECONFIG, kubeconfig=yaml.safe_dump(emu.kubeconfig_dict()))


@pytest.fixture
def seeded(k8s_emulator):  # noqa: F811
    """An emulated cluster holding the five seed failures."""
    return k8s_emulator(seeds_text())


@pytest.fixture
def prod(db, seeded):
    """The seeded cluster, connected by kubeconfig and scanned once, with the full catalog loaded."""
    call_command("loadarticles", stdout=StringIO())
    cluster = connect("prod", seeded)
    scanning.execute(scanning.scan_now(cluster))
    return cluster


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker thread: on Redis in CI (or wherever Redis runs), else the memory broker."""
    from celery.contrib.testing.worker import start_worker

    from meshkb.celery import app

    broker = "redis://127.0.0.1:6379/15" if IN_CI or listening(6379) else "memory://"
    # A queue of its own, so test runs sharing the Redis server never take each other's tasks.
    queue = f"meshkb-tests-{os.getpid()}"
    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options", "task_always_eager",
                                             "task_default_queue")}
    app.conf.update(broker_url=broker, broker_transport_options={}, task_always_eager=False, task_default_queue=queue)
    # Two threads, so two tasks can really run at the same time.
    with start_worker(app, perform_ping_check=False, pool="threads", concurrency=2, shutdown_timeout=20,
                      queues=[queue]) as worker:
        worker.broker = broker
        yield worker
    app.conf.update(saved)


class Receiver:
    """An HTTP server that records JSON bodies and answers with a chosen status."""

    def __init__(self):
        self.bodies, self.status = [], 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/SECRET"


@pytest.fixture
def receiver(settings):
    hook = Receiver()
    settings.MESHKB_WEBHOOK_URL = hook.url
    settings.MESHKB_WEBHOOK_MIN_SEVERITY = "warning"
    yield hook
    hook.server.shutdown()
