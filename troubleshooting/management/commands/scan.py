"""``manage.py scan``: find known Istio failures in cluster state and link each to its article."""

import sys

from django.conf import settings

from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.scanner import LoadError, load_paths, scan
from troubleshooting.scanner.loaders import paused_gc
from troubleshooting.scanner.output import FORMATS, render
from troubleshooting.scanner.suppress import Suppression, SuppressionError

EXIT_BAD_INPUT = 2
EXIT_FINDINGS = 3
FAIL_ON = ("info", "warning", "error", "none")


class Command(MeshkbCommand):
    help = (
        "Scan cluster state for known Istio failures: kubectl get -o yaml|json output, manifests or a live "
        "cluster. Exit 0: nothing at or above --fail-on; 3: findings at or above it; 2: bad input or "
        "unreachable cluster."
    )
    stealth_options = ("stdin",)

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message):
            if getattr(parser, "called_from_command_line", False):
                sys.stderr.write(f"scan: {message}\n")
                sys.exit(EXIT_BAD_INPUT)
            raise InputError(f"scan: {message}", returncode=EXIT_BAD_INPUT)

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("-f", "--file", action="append", dest="files", metavar="PATH",
                            help="a file (YAML or JSON, kind: List welcome), a directory of manifests, or - for "
                                 "stdin; repeatable")
        parser.add_argument("--kubeconfig", metavar="FILE", help="scan a live cluster with this kubeconfig")
        parser.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")
        parser.add_argument("-o", "--output", choices=FORMATS, default="text", help="output format (default: text)")
        parser.add_argument("--fail-on", choices=FAIL_ON, default="error",
                            help="exit 3 when a finding has this severity or more (default: error)")
        parser.add_argument("--suppress", action="append", default=[], metavar="'RULE=Kind ns/name'",
                            help="hide matching findings; * is a wildcard (e.g. 'MKB-003=Gateway default/*'); "
                                 "repeatable")
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("-n", "--namespace", action="append", dest="namespaces", metavar="NS",
                           help="report findings in this namespace only (repeatable); the whole snapshot is "
                                "still analysed")
        scope.add_argument("-A", "--all-namespaces", action="store_true", help="report every namespace (default)")

    def handle(self, *args, files=None, kubeconfig=None, context=None, output="text", fail_on="error",
               suppress=(), namespaces=None, all_namespaces=False, stdin=None, **options):
        try:
            patterns = [Suppression.parse(s) for s in suppress or ()]
        except SuppressionError as exc:
            raise InputError(str(exc), returncode=EXIT_BAD_INPUT) from None
        if files and (kubeconfig or context):
            raise InputError("give either --file or --kubeconfig/--context, not both", returncode=EXIT_BAD_INPUT)
        # One pass with the cyclic collector paused: the snapshot is millions of acyclic objects, and a
        # collection between loading and analysis would walk all of them (see loaders.paused_gc).
        with paused_gc():
            if files:
                try:
                    snapshot = load_paths(files, stdin=stdin)
                except LoadError as exc:
                    raise InputError(str(exc), returncode=EXIT_BAD_INPUT) from None
            else:
                snapshot = self._read_cluster(kubeconfig, context)
            report = scan(snapshot, suppress=patterns, namespaces=None if all_namespaces else namespaces,
                          base_url=settings.SITE_URL)
            text = render(report, output)
            del snapshot
        self.stdout.write(text, ending="")
        self.stdout.flush()
        if report.at_or_above(fail_on):
            sys.exit(EXIT_FINDINGS)

    def _read_cluster(self, kubeconfig, context):
        from troubleshooting.scanner.cluster import ClusterError, ClusterReader, api_client_from_kubeconfig

        try:
            api = api_client_from_kubeconfig(kubeconfig, context)
            with api:
                label = f"cluster {context}" if context else "cluster"
                return ClusterReader(api, source=label).read().snapshot
        except ClusterError as exc:
            raise InputError(str(exc), returncode=EXIT_BAD_INPUT) from None
