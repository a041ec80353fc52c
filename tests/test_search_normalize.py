"""The paste normaliser: noise out, meaning kept. Pure functions, no database."""

import pytest

from troubleshooting.search.normalize import MAX_QUERY_CHARS, normalize

ACCESS_LOG = (
    '[2026-11-25T10:01:02.123Z] "GET /reviews/0 HTTP/1.1" 503 UF,URX '
    'upstream_reset_before_response_started{connection_failure} - "-" 0 91 3 - "-" "curl/7.81.0" '
    '"5b6e2a1c-9c1d-4d5a-8a8f-1e2f3a4b5c6d" "reviews:9080" "10.244.1.17:9080" '
    "outbound|9080|v1|reviews.default.svc.cluster.local - 10.96.12.3:9080 10.244.0.5:44226 - default"
)


def tokens(text: str) -> list[str]:
    return normalize(text).tokens


def test_an_access_log_line_keeps_status_flags_details_and_cluster_direction():
    result = tokens(ACCESS_LOG)
    assert result[:4] == ["get", "reviews", "http11", "http_503"]
    assert {"flag_uf", "flag_urx", "upstream_reset_before_response_started", "connection_failure", "outbound", "port_9080"} <= set(result)
    assert not any(t.isdigit() or t.startswith(("10", "5b6e", "2026")) for t in result)


@pytest.mark.parametrize(
    "noise",
    [
        "2021-11-29T07:24:21.703924Z",
        "[2026-11-25 10:01:02,123 +0000]",
        "I1125 10:01:02.123456   12345 server.go:123]",
        "10:01:02.123",
        "5b6e2a1c-9c1d-4d5a-8a8f-1e2f3a4b5c6d",
        "172.24.0.10:56806",
        "10.0.0.0/8",
        "[fe80::1]:8080",
        "2001:db8::ff00:42:8329",
        "[::]:15001",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "0x7f3a2b1c",
        "12345",
        "600s",
        "v1beta1",
    ],
)
def test_noise_disappears(noise):
    assert tokens(f"envoy {noise} listener") == ["envoy", "listener"]


def test_pod_names_lose_their_generated_suffixes():
    assert tokens("pod reviews-v1-7f99cc4496-gdxfn and ds agent-x7k2p") == ["pod", "reviews", "ds", "agent"]


@pytest.mark.parametrize(
    "text, kept",
    [
        ("HTTP/1.1 426 Upgrade Required", "http_426"),
        ("curl: (35) OpenSSL SSL_connect: Connection reset by peer", "curl_35"),
        ("curl: (60) SSL: no alternative certificate subject name", "curl_60"),
        ("Error [IST0145] (Gateway default/test2) Conflict with gateways", "ist0145"),
        ("TLS_error:|268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER", "wrong_version_number"),
        ("503 NC cluster_not_found", "cluster_not_found"),
        ("response flags: UAEX", "flag_uaex"),
        ('"- - -" 0 - - - "-" 706 5398 67 - PassthroughCluster 172.24.0.10:42434', "passthroughcluster"),
    ],
)
def test_meaningful_codes_are_kept_as_typed_tokens(text, kept):
    assert kept in tokens(text)


def test_ports_and_numbers_that_look_like_statuses_are_not_statuses():
    assert "http_443" not in tokens("connection to test2.example.com:443 on port 443 took 503ms")
    assert tokens("status 404") == ["status", "http_404"]


def test_json_field_names_and_source_locations_are_noise_but_negations_are_not():
    assert tokens('{"response_flags":"UF","upstream_cluster":"outbound|80||web.shop.svc.cluster.local"}') == [
        "flag_uf", "outbound", "port_80"
    ]
    assert tokens("[debug][router] [external/envoy/source/common/router/router.cc:1128] pool ready") == [
        "router", "pool", "ready"
    ]
    assert tokens("Envoy proxy is NOT ready") == ["envoy", "proxy", "not", "ready"]


def test_identifiers_also_give_their_words_and_http_versions_are_kept():
    assert tokens("InvalidCertificate(ExpiredContext)") == [
        "invalidcertificate", "invalid", "certificate", "expiredcontext", "expired", "context"
    ]
    assert tokens("javax.net.ssl.SSLHandshakeException") == ["javax", "net", "ssl", "sslhandshakeexception", "ssl", "handshake", "exception"]
    assert tokens('"GET / HTTP/1.0" 426') == ["get", "http10", "http_426"]
    assert tokens("HTTP/2 404") == ["http2", "http_404"]


def test_upper_case_words_that_are_not_flags_stay_words():
    assert tokens("TLS SNI UF") == ["tls", "sni", "flag_uf"]
    assert tokens("NR,XYZ") == ["nr", "xyz"]


def test_a_multi_line_paste_keeps_each_line_and_its_original_text():
    result = normalize("line one 503\n\n   \n2026-01-01T00:00:00Z\nno healthy upstream")
    assert result.lines == [["line", "one", "http_503"], ["no", "healthy", "upstream"]]
    assert result.sources == ["line one 503", "no healthy upstream"]
    assert result.text == "line one http_503\nno healthy upstream"


def test_a_huge_paste_is_cut_with_a_notice():
    result = normalize("no healthy upstream\n" * 100_000)
    assert result.truncated and result.original_length == 2_000_000
    assert len(result.lines) == MAX_QUERY_CHARS // len("no healthy upstream\n")


@pytest.mark.parametrize(
    "hostile",
    ["", "\x00\x00\x00", "🚀🔥 💥", '"; DROP TABLE troubleshooting_article; --', "NEAR(a b) OR * ^x AND \"", "<script>alert(1)</script>",
     "\\" * 1000, "a" * 50_000, "\u202e\u200b\ufeff", "1" * 50_000, "fe80:" * 10_000, "outbound|" * 5_000,
     "a-1:b.2|" * 6_000, "curl: (" * 8_000, "a/b." * 12_000, '"k":' * 10_000],
)
def test_any_text_normalises_without_error(hostile):
    result = normalize(hostile)
    assert all(token.replace("_", "").isalnum() for token in result.tokens)
