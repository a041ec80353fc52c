import pytest

from troubleshooting.versions import AffectedVersions, IstioVersion, VersionError, VersionRange

EXTERNALNAME = AffectedVersions.from_data(
    [{"range": "<=1.20"}, {"range": ">=1.21,<1.24", "when": {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}}]
)


@pytest.mark.parametrize(
    "text, expected",
    [("1.22.3", (1, 22, 3)), ("1.20", (1, 20, 0)), ("v1.19.0-distroless", (1, 19, 0)), ("1.23-dev", (1, 23, 0))],
)
def test_it_parses_istio_version_strings(text, expected):
    version = IstioVersion.parse(text)
    assert (version.major, version.minor, version.patch) == expected


def test_it_reads_versions_from_image_tags_and_revisions():
    assert str(IstioVersion.from_image("docker.io/istio/pilot:1.22.3-distroless")) == "1.22.3"
    assert IstioVersion.from_image("registry:5000/istio/pilot") is None
    assert IstioVersion.from_image("gcr.io/istio/pilot:latest") is None
    assert str(IstioVersion.from_revision("1-21-2")) == "1.21.2"
    assert IstioVersion.from_revision("canary") is None


@pytest.mark.parametrize(
    "version, env, affected",
    [
        ("1.11.4", {}, True),
        ("1.20.8", {}, True),
        ("1.21.0", {}, False),
        ("1.22.1", {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}, True),
        ("1.22.1", {"ENABLE_EXTERNAL_NAME_ALIAS": "False"}, True),
        ("1.22.1", {"ENABLE_EXTERNAL_NAME_ALIAS": "true"}, False),
        ("1.24.0", {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}, False),
        ("1.26.2", {}, False),
    ],
)
def test_the_externalname_range_fires_only_where_the_hijack_exists(version, env, affected):
    assert EXTERNALNAME.applies(IstioVersion.parse(version), env) is affected


def test_an_unknown_version_counts_as_affected():
    assert EXTERNALNAME.applies(None) is True


def test_no_entries_means_every_version():
    assert AffectedVersions.from_data(None).applies(IstioVersion.parse("1.30.0"))
    assert AffectedVersions.from_data([]).describe() == "All Istio versions"


def test_clauses_compare_only_the_parts_they_name():
    assert VersionRange.parse("<=1.20").matches(IstioVersion.parse("1.20.9"))
    assert not VersionRange.parse("<1.20.3").matches(IstioVersion.parse("1.20.3"))
    assert VersionRange.parse("*").matches(IstioVersion.parse("0.8.0"))


def test_ranges_describe_themselves_for_people():
    assert EXTERNALNAME.describe() == "≤ 1.20; 1.21 – 1.23 with ENABLE_EXTERNAL_NAME_ALIAS=false"
    assert VersionRange.parse(">=1.22,<1.23").describe() == "1.22"
    assert VersionRange.parse(">=1.22").describe() == "≥ 1.22"


@pytest.mark.parametrize(
    "data, message",
    [
        ("<=1.20", "istio_versions must be a list"),
        ([{"when": {}}], "istio_versions[0] needs a 'range' key"),
        ([{"range": "about 1.20"}], "bad version range 'about 1.20'"),
        ([{"range": "*", "since": "1.0"}], "istio_versions[0] has unknown keys: since"),
    ],
)
def test_bad_version_data_is_refused_with_a_reason(data, message):
    with pytest.raises(VersionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        AffectedVersions.from_data(data)
