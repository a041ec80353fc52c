"""meshkb's scanner: detect known Istio failures in cluster state.

Pure Python, no Django: detectors are plain functions ``snapshot -> list[Finding]`` (one module per
rule in ``rules/``), so they are tested without a database or settings.

    from troubleshooting.scanner import load_paths, scan
    report = scan(load_paths(["cluster.yaml"]), base_url="https://meshkb.example.com")
"""

MESHKB_VERSION = "0.4.0"

from .engine import Report, Rule, all_rules, scan  # noqa: E402
from .findings import Finding, Ref, Remediation  # noqa: E402
from .loaders import LoadError, load_paths  # noqa: E402
from .snapshot import Snapshot, SnapshotBuilder  # noqa: E402

__all__ = ["Finding", "LoadError", "Ref", "Remediation", "Report", "Rule", "Snapshot", "SnapshotBuilder",
           "all_rules", "load_paths", "scan", "MESHKB_VERSION"]
