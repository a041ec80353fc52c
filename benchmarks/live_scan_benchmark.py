#!/usr/bin/env python
"""A live scan of an emulated cluster against `kubectl get` of the same kinds from the same server.

    .venv/bin/python benchmarks/live_scan_benchmark.py [--pods 20000] [--repeat 3]

It generates a mesh with about 20,000 pods and the matching namespaces, Deployments, ReplicaSets,
Services and Istio objects (benchmarks/scan_benchmark.py's generator), serves it from the Kubernetes
API emulator of the test suite (tests/k8s_emulator.py: the same HTTP API, pagination included),
then times, best of --repeat:

- meshkb: listing every kind through the official kubernetes client with pagination (500 per page)
  and analysing the snapshot (ClusterReader + scan), as a cluster scan does;
- kubectl: `kubectl get <the same kinds> -A -o json` (chunked at 500), output discarded.

Target: meshkb <= 1.5x kubectl. Needs `kubectl` on the PATH. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def kubectl_resources(kinds) -> list[str]:
    """The resource names kubectl needs for the kinds the scanner reads."""
    names = []
    for spec in kinds:
        plural = spec.plural if spec.group == "" else f"{spec.plural}.{spec.group}"
        names.append((plural, spec.namespaced, spec.only_namespace))
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=20_000, help="about how many pods (default 20000)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("kubectl"):
        print("kubectl is not on the PATH", file=sys.stderr)
        return 2

    from scan_benchmark import generate

    from tests.k8s_emulator import RESOURCES, KubernetesEmulator
    from troubleshooting.scanner import scan
    from troubleshooting.scanner.cluster import KINDS, ClusterReader

    objects = [o for o in generate(int(args.pods * 2.32)) if o.get("kind") in RESOURCES]  # ~43% of them pods
    pods = sum(1 for o in objects if o["kind"] == "Pod")
    counts = {}
    for o in objects:
        counts[o["kind"]] = counts.get(o["kind"], 0) + 1
    print(f"emulated cluster: {len(objects):,} objects ({pods:,} pods): "
          + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))

    # No token check: kubectl does not send credentials to a plain-HTTP server.
    with KubernetesEmulator(objects, token="") as emu, tempfile.TemporaryDirectory() as tmp:
        kubeconfig = emu.kubeconfig(Path(tmp) / "kubeconfig")
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(Path(tmp) / "cache")}
        cluster_wide = [name for name, namespaced, ns in kubectl_resources(KINDS) if ns is None]
        namespaced = [(name, ns) for name, _, ns in kubectl_resources(KINDS) if ns is not None]
        commands = [["kubectl", "get", ",".join(cluster_wide), "-A", "-o", "json", "--chunk-size=500"]]
        commands += [["kubectl", "get", name, "-n", ns, "-o", "json", "--chunk-size=500"] for name, ns in namespaced]

        def run_kubectl() -> int:
            items = 0
            for command in commands:
                out = subprocess.run(command, env=env, capture_output=True, check=True).stdout
                items += len(json.loads(out).get("items", []))
            return items

        def run_meshkb():
            with emu.api_client() as api:
                result = ClusterReader(api, page_size=500).read()
            report = scan(result.snapshot)
            return result, report

        run_kubectl()  # warm kubectl's discovery cache, as a real kubectl has it
        kubectl_times, meshkb_times = [], []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            listed = run_kubectl()
            kubectl_times.append(time.perf_counter() - begin)
            begin = time.perf_counter()
            result, report = run_meshkb()
            meshkb_times.append(time.perf_counter() - begin)
        scanned = sum(result.snapshot.scanned.values())
        print(f"kubectl get (same kinds):   best {min(kubectl_times):6.2f} s   ({listed:,} objects)")
        print(f"meshkb fetch + analysis:    best {min(meshkb_times):6.2f} s   ({scanned:,} objects, "
              f"{len(report.findings):,} findings, partial: {result.partial})")
        ratio = min(meshkb_times) / min(kubectl_times)
        print(f"ratio meshkb / kubectl:     {ratio:.2f}  (target <= 1.5)  {'OK' if ratio <= 1.5 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
