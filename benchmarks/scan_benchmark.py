"""Benchmark ``manage.py scan`` on synthetic mesh snapshots (run on demand; not part of ``make test``).

    .venv/bin/python benchmarks/scan_benchmark.py                  # 25k, 50k, 100k objects, JSON and YAML
    .venv/bin/python benchmarks/scan_benchmark.py --sizes 25000 --formats json --repeat 1

For each size it generates a ``kubectl get -o json|yaml``-style List (namespaces, Deployments,
ReplicaSets and pods with injected sidecars, Services, Gateways, VirtualServices, DestinationRules,
ServiceEntries, mesh config, istiod, and planted copies of the five seed failures) into
``benchmarks/out/`` and measures, each in a fresh process:

- the baseline: ``json.load`` of the file, or PyYAML's C loader (``yaml.load(..., CSafeLoader)``);
- meshkb: loading (parse + slim + index) and analysis (all rules + JSON report) separately;
- peak memory (max RSS) of each process.

It prints a table and checks the targets of issue 4: scan/json.load ≤ 3, scan/CSafeLoader ≤ 1.3,
and doubling the objects at most doubles the scan time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

PROXY_IMAGE = "docker.io/istio/proxyv2:1.20.3"
# Doubling the input may at most double the time. Timings of runs minutes long vary by a few tenths of a
# percent to a few percent between runs, so growth is compared with 2 within this tolerance; a quadratic
# pass would show 2.5 to 4.
GROWTH_TOLERANCE = 1.05
T0 = "2024-05-01T10:00:00Z"


# --- generator ------------------------------------------------------------------------------


def _meta(kind, name, ns, labels=None, annotations=None, owner=None, created=T0):
    md = {"name": name, "namespace": ns, "uid": f"{abs(hash((kind, ns, name))):032x}"[:32],
          "resourceVersion": str(random.randint(100000, 999999)), "creationTimestamp": created}
    if labels:
        md["labels"] = labels
    if annotations:
        md["annotations"] = annotations
    if owner:
        md["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": "0" * 32,
                                  "controller": True, "blockOwnerDeletion": True}]
    return md


def _proxy_container():
    env = [{"name": n, "value": v} for n, v in [
        ("PILOT_CERT_PROVIDER", "istiod"), ("CA_ADDR", "istiod.istio-system.svc:15012"), ("PROXY_CONFIG", "{}\n"),
        ("ISTIO_META_POD_PORTS", '[{"name":"http","containerPort":8080,"protocol":"TCP"}]'),
        ("ISTIO_META_APP_CONTAINERS", "app"), ("GOMEMLIMIT", "1073741824"), ("GOMAXPROCS", "2"),
        ("ISTIO_META_CLUSTER_ID", "Kubernetes"), ("ISTIO_META_NODE_NAME", "node-1"),
        ("ISTIO_META_INTERCEPTION_MODE", "REDIRECT"), ("ISTIO_META_MESH_ID", "cluster.local"),
        ("TRUST_DOMAIN", "cluster.local")]]
    env += [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
            {"name": "INSTANCE_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}]
    return {
        "name": "istio-proxy", "image": PROXY_IMAGE,
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
                 "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "env": env,
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"failureThreshold": 4, "httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
                           "periodSeconds": 15, "successThreshold": 1, "timeoutSeconds": 3},
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "privileged": False,
                            "readOnlyRootFilesystem": True, "runAsGroup": 1337, "runAsNonRoot": True, "runAsUser": 1337},
        "volumeMounts": [{"mountPath": p, "name": n} for n, p in [
            ("workload-socket", "/var/run/secrets/workload-spiffe-uds"), ("credential-socket", "/var/run/secrets/credential-uds"),
            ("workload-certs", "/var/run/secrets/workload-spiffe-credentials"), ("istiod-ca-cert", "/var/run/secrets/istio"),
            ("istio-data", "/var/lib/istio/data"), ("istio-envoy", "/etc/istio/proxy"), ("istio-token", "/var/run/secrets/tokens"),
            ("istio-podinfo", "/etc/istio/pod")]],
    }


def pod(ns, app, rs, i, version, crash=False):
    name = f"{rs}-{i:05x}"
    labels = {"app": app, "version": version, "pod-template-hash": rs.rsplit("-", 1)[1],
              "security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": app,
              "service.istio.io/canonical-revision": version}
    annotations = {"kubectl.kubernetes.io/default-container": app, "prometheus.io/path": "/stats/prometheus",
                   "prometheus.io/port": "15020", "prometheus.io/scrape": "true",
                   "sidecar.istio.io/status": '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":'
                                              '["workload-socket","credential-socket","workload-certs","istio-envoy",'
                                              '"istio-data","istio-podinfo","istio-token","istiod-ca-cert"],'
                                              '"imagePullSecrets":null,"revision":"default"}'}
    app_status = {"containerID": f"containerd://{i:064x}", "image": f"registry.example.com/{app}:1.4.2",
                  "imageID": f"registry.example.com/{app}@sha256:{i:064x}", "name": app, "ready": True,
                  "restartCount": 0, "started": True, "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}}}
    if crash:
        app_status["restartCount"] = 1
        app_status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2024-05-01T10:00:02Z",
                                                  "finishedAt": "2024-05-01T10:00:03Z", "containerID": "containerd://x"}}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": _meta("Pod", name, ns, labels, annotations, ("ReplicaSet", rs)),
        "spec": {
            "containers": [
                {"name": app, "image": f"registry.example.com/{app}:1.4.2", "imagePullPolicy": "IfNotPresent",
                 "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
                 "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                 "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
                 "readinessProbe": {"httpGet": {"path": "/app-health/app/readyz", "port": 15020, "scheme": "HTTP"}},
                 "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access",
                                   "readOnly": True}]},
                _proxy_container(),
            ],
            "initContainers": [{"name": "istio-init", "image": PROXY_IMAGE,
                                "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
                                         "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]}],
            "volumes": [{"name": n, "emptyDir": {}} for n in ("workload-socket", "credential-socket", "workload-certs",
                                                               "istio-envoy", "istio-data")]
                       + [{"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert", "defaultMode": 420}}],
            "serviceAccountName": app, "nodeName": f"node-{i % 50}", "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler", "terminationGracePeriodSeconds": 30, "enableServiceLinks": True,
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                             "tolerationSeconds": 300}],
        },
        "status": {
            "phase": "Running", "hostIP": "10.0.0.7", "podIP": f"10.{i % 250}.{i // 250 % 250}.{i % 200}",
            "startTime": T0, "qosClass": "Burstable",
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": T0}
                           for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "initContainerStatuses": [{"name": "istio-init", "ready": True, "restartCount": 0, "image": PROXY_IMAGE,
                                       "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                                                "startedAt": T0, "finishedAt": T0}}}],
            "containerStatuses": [app_status,
                                  {"name": "istio-proxy", "ready": True, "restartCount": 0, "started": True,
                                   "image": PROXY_IMAGE, "imageID": "docker.io/istio/proxyv2@sha256:" + "0" * 64,
                                   "state": {"running": {"startedAt": "2024-05-01T10:00:01Z"}}}],
        },
    }


def workload(ns, app, replicas, crash=False):
    rs = f"{app}-{random.randrange(16**9):09x}"
    labels = {"app": app, "version": "v1"}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("Deployment", app, ns, {"app": app}),
           "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                        {"name": app, "image": f"registry.example.com/{app}:1.4.2",
                         "ports": [{"containerPort": 8080, "name": "http"}]}]}}},
           "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                      "conditions": [{"type": "Available", "status": "True"}]}}
    rset = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": _meta("ReplicaSet", rs, ns, labels, owner=("Deployment", app)),
            "spec": dep["spec"], "status": {"replicas": replicas, "readyReplicas": replicas}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": _meta("Service", app, ns, {"app": app}),
           "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "selector": {"app": app},
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                              {"name": "grpc", "port": 9090, "protocol": "TCP", "targetPort": 9090}]}}
    pods = [pod(ns, app, rs, i, "v1", crash=crash and i == 0) for i in range(replicas)]
    return [dep, rset, svc] + pods


def istio_objects(ns, app, gw_index):
    host = f"{app}.{ns}.svc.cluster.local"
    return [
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": _meta("VS", app, ns),
         "spec": {"hosts": [f"{app}-{ns}.app{gw_index}.example.com"], "gateways": [f"istio-system/public-{gw_index}"],
                  "http": [{"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": host, "subset": "v1",
                                                                                              "port": {"number": 80}}}],
                            "timeout": "10s", "retries": {"attempts": 3}}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": _meta("DR", app, ns),
         "spec": {"host": host, "trafficPolicy": {"connectionPool": {"http": {"http1MaxPendingRequests": 1024}}},
                  "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}},
    ]


def generate(target: int, seed: int = 4) -> list[dict]:
    random.seed(seed)
    objs = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("D", "istiod", "istio-system", {"app": "istiod"}),
         "spec": {"selector": {"matchLabels": {"app": "istiod"}}, "template": {"spec": {"containers": [
             {"name": "discovery", "image": "docker.io/istio/pilot:1.20.3", "env": [{"name": "PILOT_TRACE_SAMPLING", "value": "1"}]}]}}},
         "status": {"readyReplicas": 1}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("CM", "istio", "istio-system"),
         "data": {"mesh": "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\nenablePrometheusMerge: true\n"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("S", "istio-ingressgateway", "istio-system", {"istio": "ingressgateway"}),
         "spec": {"type": "LoadBalancer", "selector": {"istio": "ingressgateway"},
                  "ports": [{"name": "http2", "port": 80, "targetPort": 8080}, {"name": "https", "port": 443, "targetPort": 8443}]}},
    ]
    for i in range(3):
        objs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": _meta("P", f"istio-ingressgateway-{i}", "istio-system", {"istio": "ingressgateway", "app": "istio-ingressgateway"}),
                     "spec": {"containers": [{**_proxy_container(), "args": ["proxy", "router"]}]}, "status": {"phase": "Running"}})
    gateways = max(1, target // 2000)
    for g in range(gateways):
        objs.append({"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": _meta("G", f"public-{g}", "istio-system"),
                     "spec": {"selector": {"istio": "ingressgateway"},
                              "servers": [{"port": {"number": 443, "name": f"https-{g}", "protocol": "HTTPS"},
                                           "hosts": [f"*.app{g}.example.com"], "tls": {"mode": "SIMPLE", "credentialName": f"cert-{g}"}}]}})
    # planted seed failures
    objs += [
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": _meta("G", "dup-a", "web", created="2024-01-01T00:00:00Z"),
         "spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                  "hosts": ["shop.example.com"], "tls": {"mode": "SIMPLE", "credentialName": "shop"}}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": _meta("G", "dup-b", "web", created="2024-02-01T00:00:00Z"),
         "spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                  "hosts": ["shop.example.com", "blog.example.com"], "tls": {"mode": "SIMPLE", "credentialName": "shop"}}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("S", "bing", "web"),
         "spec": {"type": "ExternalName", "externalName": "bing.com", "ports": [{"port": 443}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta("S", "admin-ui", "web"),
         "spec": {"selector": {"app": "admin-ui"}, "ports": [{"name": "http", "port": 3306, "targetPort": 8080}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": _meta("SE", "external-db", "web"),
         "spec": {"hosts": ["db.example.com"], "addresses": ["203.0.113.9/32"], "location": "MESH_EXTERNAL", "resolution": "DNS",
                  "ports": [{"number": 5432, "name": "tcp-pg", "protocol": "TCP"}]}},
    ]
    ns_index = 0
    while len(objs) < target:
        ns = f"team-{ns_index:04d}"
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {**_meta("N", ns, ""), "labels": {"istio-injection": "enabled"}}})
        objs[-1]["metadata"].pop("namespace")
        for a in range(8):
            app = f"svc{a}"
            objs += workload(ns, app, replicas=4, crash=(ns_index % 50 == 0 and a == 0))
            objs += istio_objects(ns, app, ns_index % gateways)
        objs.append({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": _meta("SE", "partner-api", ns),
                     "spec": {"hosts": [f"api.partner{ns_index}.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
                              "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}]}})
        ns_index += 1
    return objs[:target]


def write(objs: list[dict], fmt: str, path: Path) -> None:
    # a JSON round trip un-shares dicts the generator reuses, so YAML gets no anchors (kubectl writes none)
    objs = json.loads(json.dumps(objs))
    doc = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objs}
    with path.open("w") as fh:
        if fmt == "json":
            json.dump(doc, fh, indent=4)  # kubectl indents with 4 spaces
        else:
            import yaml

            yaml.dump(doc, fh, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), default_flow_style=False, sort_keys=False)


# --- measurement (each in a fresh process) ----------------------------------------------------


def _child(mode: str, path: str) -> None:
    if mode.startswith("generate-"):
        _, fmt, size = mode.split("-")
        write(generate(int(size)), fmt, Path(path))
        print(json.dumps({"written": path}))
        return
    start = time.perf_counter()
    if mode == "json.load":
        with open(path, "rb") as fh:
            json.load(fh)
        result = {"total": time.perf_counter() - start}
    elif mode == "CSafeLoader":
        import yaml

        with open(path, "rb") as fh:
            list(yaml.load_all(fh.read(), Loader=yaml.CSafeLoader))
        result = {"total": time.perf_counter() - start}
    else:
        from troubleshooting.scanner import load_paths, scan
        from troubleshooting.scanner.loaders import paused_gc
        from troubleshooting.scanner.output import render

        with paused_gc():  # exactly what manage.py scan does
            snapshot = load_paths([path])
            loaded = time.perf_counter()
            report = scan(snapshot, base_url="http://127.0.0.1:8000")
            render(report, "json")
            done = time.perf_counter()
        result = {"load": loaded - start, "analysis": done - loaded, "total": done - start,
                  "objects": sum(snapshot.scanned.values()), "findings": len(report.findings),
                  "rules": sorted({f.rule for f in report.findings})}
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(mode: str, path: Path, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, __file__, "--child", mode, str(path)], capture_output=True, text=True,
                              check=True, cwd=ROOT)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or result["total"] < best["total"]:
            best = result
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 50_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["json", "yaml"], choices=["json", "yaml"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    rows, ok = [], True
    for fmt in args.formats:
        previous, previous_size = None, 0
        for size in sorted(args.sizes):
            path = OUT / f"mesh-{size}.{fmt}"
            if not path.exists():  # in a child process, so this one does not keep gigabytes of objects
                subprocess.run([sys.executable, __file__, "--child", f"generate-{fmt}-{size}", str(path)], check=True,
                               capture_output=True, cwd=ROOT)
            with path.open("rb") as fh:  # warm the page cache so every run reads from memory
                while fh.read(1 << 24):
                    pass
            base_mode = "json.load" if fmt == "json" else "CSafeLoader"
            base = measure(base_mode, path, args.repeat)
            mine = measure("scan", path, args.repeat)
            ratio = mine["total"] / base["total"]
            limit = 3.0 if fmt == "json" else 1.3
            growth = mine["total"] / previous["total"] if previous else None
            row = {"format": fmt, "objects": size, "MB": path.stat().st_size / 1e6, "baseline": base_mode,
                   "baseline_s": base["total"], "load_s": mine["load"], "analysis_s": mine["analysis"],
                   "scan_s": mine["total"], "ratio": ratio, "limit": limit, "growth": growth,
                   "rss_baseline_mb": base["max_rss_mb"], "rss_scan_mb": mine["max_rss_mb"],
                   "findings": mine["findings"], "rules": mine["rules"]}
            rows.append(row)
            ok &= ratio <= limit and (growth is None or growth <= size / previous_size * GROWTH_TOLERANCE)
            previous, previous_size = mine, size
    print(f"{'fmt':<5}{'objects':>9}{'MB':>8}  {'baseline':<12}{'base s':>8}{'load s':>8}{'anal. s':>8}{'scan s':>8}"
          f"{'ratio':>7}{'≤':>5}{'x2 growth':>10}{'RSS base':>10}{'RSS scan':>10}{'findings':>9}")
    for r in rows:
        growth = f"{r['growth']:.3f}" if r["growth"] else "-"
        print(f"{r['format']:<5}{r['objects']:>9}{r['MB']:>8.0f}  {r['baseline']:<12}{r['baseline_s']:>8.2f}{r['load_s']:>8.2f}"
              f"{r['analysis_s']:>8.2f}{r['scan_s']:>8.2f}{r['ratio']:>7.2f}{r['limit']:>5}{growth:>10}"
              f"{r['rss_baseline_mb']:>9.0f}M{r['rss_scan_mb']:>9.0f}M{r['findings']:>9}")
    print("rules found:", ", ".join(rows[-1]["rules"]) if rows else "-")
    print(f"targets: ratio ≤ limit; growth (time at 2× objects / time) ≤ 2 within {GROWTH_TOLERANCE - 1:.0%} timing noise")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
