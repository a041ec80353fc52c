import signal
import subprocess
import sys
import time

from django.conf import settings

from troubleshooting.management.base import MeshkbCommand


class Command(MeshkbCommand):
    help = "Run the whole app in one terminal: the web server, one Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="where the web server listens")

    def handle(self, *args, addrport="127.0.0.1:8000", **options):
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "meshkb"]
        children = {
            "web": [python, "manage.py", "runserver", addrport],
            # One worker process: the embedded filesystem broker is meant for a single consumer.
            "worker": celery + ["worker", "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            "beat": celery + ["beat", "--loglevel", "INFO"],
        }
        host, _, port = addrport.rpartition(":")
        url = f"http://{host or '127.0.0.1'}:{port}/"
        self.stdout.write(f"meshkb: web, worker and beat starting (broker {settings.CELERY_BROKER_URL.split('@')[-1]})")
        self.stdout.write(f"meshkb: open {url}  (log in at {url}accounts/login/)")
        processes = {name: subprocess.Popen(command, cwd=settings.BASE_DIR) for name, command in children.items()}
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exited = None
        while not stopping and exited is None:
            time.sleep(0.5)
            exited = next((name for name, p in processes.items() if p.poll() is not None), None)
        if exited:
            self.stderr.write(f"meshkb: {exited} exited with code {processes[exited].returncode}; stopping the others")
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        if exited:
            sys.exit(1)
