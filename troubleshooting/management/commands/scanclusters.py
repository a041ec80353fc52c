from troubleshooting.clusters import notify, scanning
from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.models import Cluster


class Command(MeshkbCommand):
    help = "Run due cluster scans now (or one named cluster), synchronously, with the code the Celery task runs."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", metavar="NAME", help="scan this cluster now, due or not")

    def handle(self, *args, cluster=None, **options):
        if cluster:
            target = Cluster.objects.filter(name=cluster).first()
            if target is None:
                raise InputError(f"no cluster named {cluster!r}")
            scan = scanning.scan_now(target, trigger="cli")
            if scan is None:
                raise InputError(f"cluster {cluster!r} is being scanned right now; try again when it finishes")
            scans = [scan]
        else:
            scans = scanning.dispatch_due()
            if not scans:
                self.stdout.write("no cluster is due for a scan")
        failed = 0
        for scan in scans:
            scan = scanning.execute(scan)
            counts = ", ".join(f"{n} {s}" for s, n in scan.counts.items() if n) or "no findings"
            line = f"{scan.cluster.name}: {scan.status} in {scan.duration_ms or 0} ms: {counts}"
            if scan.error:
                line += f" ({scan.error})"
                failed += 1
            for kind, reason in sorted(scan.kind_errors.items()):
                line += f"\n  could not read {kind}: {reason}"
            self.stdout.write(line)
            try:
                notify.send_for(scan)
            except notify.DeliveryFailed as exc:
                self.stderr.write(f"{scan.cluster.name}: could not notify: {exc}")
        if failed:
            raise InputError(f"{failed} of {len(scans)} scans failed", returncode=1)
