import re
from pathlib import Path

from django.conf import settings

from troubleshooting.clusters.registry import ClusterInputError, configure
from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.models import Cluster

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _read(path: str, what: str, limit: int) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > limit:
            raise InputError(f"{what} {path}: too large ({file.stat().st_size:,} bytes; the limit is {limit:,})")
        return file.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror}") from None


class Command(MeshkbCommand):
    help = "Connect a cluster: addcluster NAME (--kubeconfig F [--context C] | --in-cluster | --snapshot F)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="a short name: lower-case letters, digits and '-'")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--kubeconfig", metavar="FILE", help="a kubeconfig file (stored encrypted)")
        source.add_argument("--in-cluster", action="store_true", help="meshkb's own service account")
        source.add_argument("--snapshot", metavar="FILE", help="a kubectl get -o yaml|json dump (air-gapped clusters)")
        parser.add_argument("--context", help="the kubeconfig context to use (default: its current-context)")
        parser.add_argument("--interval", type=int, metavar="MINUTES", help="minutes between scans")
        parser.add_argument("--update", action="store_true", help="update the cluster if it exists (new source)")

    def handle(self, *args, name, kubeconfig=None, in_cluster=False, snapshot=None, context=None, interval=None,
               update=False, **options):
        if not NAME_RE.match(name):
            raise InputError(f"name {name!r}: use lower-case letters, digits and '-' (at most 63)")
        if interval is not None and not 1 <= interval <= 10080:
            raise InputError(f"--interval {interval}: use 1 to 10080 minutes")
        if context and not kubeconfig:
            raise InputError("--context only goes with --kubeconfig")
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is not None and not update:
            raise InputError(f"cluster {name!r} exists (use --update to change it)")
        created = cluster is None
        cluster = cluster or Cluster(name=name, scan_interval=settings.MESHKB_DEFAULT_SCAN_INTERVAL)
        if interval is not None:
            cluster.scan_interval = interval
        try:
            if kubeconfig:
                data = _read(kubeconfig, "kubeconfig", settings.MESHKB_MAX_KUBECONFIG_BYTES)
                configure(cluster, source=Cluster.KUBECONFIG, kubeconfig=data, context=context)
            elif snapshot:
                data = _read(snapshot, "snapshot", settings.MESHKB_MAX_SNAPSHOT_BYTES)
                configure(cluster, source=Cluster.SNAPSHOT, snapshot=data, snapshot_name=Path(snapshot).name)
            else:
                configure(cluster, source=Cluster.IN_CLUSTER)
        except ClusterInputError as exc:
            raise InputError(str(exc)) from None
        verb = "added" if created else "updated"
        detail = f" (context {cluster.context})" if cluster.context else ""
        self.stdout.write(f"cluster {name} {verb}: {cluster.get_source_display()}{detail}, scanned every {cluster.scan_interval} min")
