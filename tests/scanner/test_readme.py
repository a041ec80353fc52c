"""The README's scanner section stays in step with the code."""

import re
from pathlib import Path

import yaml

from troubleshooting.scanner import all_rules
from troubleshooting.scanner.cluster import cluster_role_yaml
from troubleshooting.scanner.output import FORMATS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## Scanning a mesh", 1)[1].split("\n## ", 1)[0]


def test_every_rule_is_documented_with_its_article_and_severity():
    for rule in all_rules():
        row = next((line for line in SECTION.splitlines() if line.startswith(f"| {rule.id} |")), None)
        assert row, f"{rule.id} is missing from the README rule table"
        assert f"`{rule.slug}`" in row and rule.severity in row


def test_the_documented_cluster_role_is_the_generated_one():
    block = SECTION.split("`cluster_role_yaml()` generates this:", 1)[1]
    documented = re.search(r"```yaml\n(.*?)```", block, re.S).group(1)
    assert list(yaml.safe_load_all(documented)) == list(yaml.safe_load_all(cluster_role_yaml()))


def test_every_flag_and_format_is_documented():
    for flag in ("--file", "--kubeconfig", "--context", "--output", "--fail-on", "--suppress", "--namespace",
                 "--all-namespaces", "meshkb.io/ignore"):
        assert flag in SECTION
    for fmt in FORMATS:
        assert fmt in SECTION
