"""Add and update clusters from validated input; shared by the web form and `addcluster`."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from troubleshooting.clusters import kubeconfig as kubeconfigs
from troubleshooting.models import Cluster
from troubleshooting.scanner.loaders import LoadError, load_bytes
from troubleshooting.scanner.snapshot import SnapshotBuilder


class ClusterInputError(ValueError):
    """One line saying what is wrong with the cluster's source."""


def checked_kubeconfig(data: bytes | str, context: str | None) -> tuple[dict, str]:
    """Parse, check and reduce a kubeconfig to one context; raises ClusterInputError."""
    try:
        config = kubeconfigs.parse(data, settings.MESHKB_MAX_KUBECONFIG_BYTES)
        return kubeconfigs.minimal(config, context, allow_plugins=settings.MESHKB_ALLOW_KUBECONFIG_PLUGINS)
    except kubeconfigs.KubeconfigError as exc:
        raise ClusterInputError(str(exc)) from None


def checked_snapshot(data: bytes, name: str) -> int:
    """Make sure an uploaded dump holds Kubernetes objects; returns how many."""
    if len(data) > settings.MESHKB_MAX_SNAPSHOT_BYTES:
        raise ClusterInputError(
            f"snapshot {name}: too large ({len(data):,} bytes; the limit is {settings.MESHKB_MAX_SNAPSHOT_BYTES:,})"
        )
    try:
        return load_bytes(data, name, SnapshotBuilder(name))
    except LoadError as exc:
        raise ClusterInputError(f"snapshot {exc}") from None


def configure(cluster: Cluster, *, source: str, kubeconfig=None, context: str | None = None,
              snapshot: bytes | None = None, snapshot_name: str = "snapshot") -> Cluster:
    """Point a (new or existing) cluster at a source, validating it first. Saves the cluster."""
    if source == Cluster.KUBECONFIG:
        if kubeconfig is None:
            if not cluster.kubeconfig_encrypted:
                raise ClusterInputError("kubeconfig: paste or upload one")
        else:
            reduced, chosen = checked_kubeconfig(kubeconfig, context)
            cluster.set_kubeconfig(reduced)
            cluster.context = chosen
        cluster.snapshot_gz = None
    elif source == Cluster.SNAPSHOT:
        if snapshot is None:
            if not cluster.snapshot_gz:
                raise ClusterInputError("snapshot: upload a kubectl get -o yaml|json dump")
        else:
            checked_snapshot(snapshot, snapshot_name)
            cluster.set_snapshot(snapshot, snapshot_name)
        cluster.kubeconfig_encrypted, cluster.context = "", ""
    elif source == Cluster.IN_CLUSTER:
        cluster.kubeconfig_encrypted, cluster.context, cluster.snapshot_gz = "", "", None
    else:
        raise ClusterInputError(f"source: unknown {source!r}")
    changed_source = cluster.source != source
    cluster.source = source
    if cluster.pk is None or changed_source or snapshot is not None or kubeconfig is not None:
        cluster.next_scan_at = timezone.now()  # scan the new source at the next tick
    cluster.save()
    return cluster
