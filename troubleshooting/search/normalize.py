"""Turn a pasted error (a curl message, an access-log line, a whole log excerpt) into search tokens.

Pure Python, no Django. The same function normalises the articles' symptom strings, so a
paste and a symptom that say the same thing produce the same tokens.

What is noise: timestamps, UUIDs and request ids, IP addresses with ports, long hex, the
generated suffixes of pod names, durations, bare numbers. What is kept, as typed tokens so
they cannot collide with ordinary words:

=====================  ==============================  ==================
kept                   example                         token
=====================  ==============================  ==================
HTTP status (400-599)  ``503``                         ``http_503``
Envoy response flag    ``UF,URX``                      ``flag_uf flag_urx``
response code details  ``route_not_found``             ``route_not_found``
curl error number      ``curl: (35)``                  ``curl_35``
istioctl code          ``IST0145``                     ``ist0145``
OpenSSL reason         ``WRONG_VERSION_NUMBER``        ``wrong_version_number``
Envoy cluster name     ``outbound|443||httpbin.org``   ``outbound port_443``
=====================  ==============================  ==================
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from troubleshooting.catalog.vocabulary import RESPONSE_FLAGS

# Pastes longer than this are cut (the rest is ignored, and the result says so).
MAX_QUERY_CHARS = 32_000
MAX_SOURCE_LINE = 400

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my myself now of off on once only
    or other our ours out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while who whom why will
    with would you your yours
    jan feb mar apr may jun jul aug sep oct nov dec mon tue wed thu fri sat sun gmt utc
    info warn warning debug trace level msg ts time caller stream stdout stderr""".split()
)

# Every pattern below stays within one line ([ \t], never \s), so substitutions on the whole
# paste keep its line structure.
_TIMESTAMP_RES = [
    # 2021-11-29T07:24:21.703924Z, [2026-11-25 10:01:02,123 +0000]
    re.compile(r"\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[ \t]?[+-]\d{2}:?\d{2})?\]?"),
    # klog header: I1125 10:01:02.123456   12345 file.go:123]
    re.compile(r"\b[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+[ \t]+\d+[ \t]+[\w.-]+:\d+\]"),
    re.compile(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"),
    re.compile(r"\b\d{4}/\d{2}/\d{2}\b"),
]
_UUID_RE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_CLUSTER_RE = re.compile(r"\b(inbound|outbound)\|(\d*)\|[^|\s\"]*\|[^\s\"]*")
_IPV4_RE = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?::\d{1,5})?\b")
# Two or more colon-separated groups of at most four hex digits: fe80::1, [::1]:8080, 2001:db8::42.
_IPV6_RE = re.compile(r"(?<![\w.:])\[?[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:%\w+)?\]?(?::\d{1,5})?(?![\w.])")
_HOST_PORT_RE = re.compile(r"(?<=[\w\]]):\d{1,5}\b")
_CURL_RE = re.compile(r"\bcurl:[ \t]*\((\d{1,3})\)", re.I)
_IST_RE = re.compile(r"\bIST(\d{4})\b", re.I)
_OPENSSL_HEX_RE = re.compile(r"\berror:[0-9A-Fa-f]{8}:")
_LONG_HEX_RE = re.compile(r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b|\b0x[0-9a-fA-F]+\b")
# Pod names from Deployments (rs hash + 5 chars) and generic generated suffixes.
_POD_SUFFIX_RE = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}\b|-[bcdfghjklmnpqrstvwxz2456789]{5}\b")
_FLAGS_RE = re.compile(r"(?<![\w-])((?:[A-Z]{2,5},)*[A-Z]{2,5})(?![\w-])")
# Field names of JSON access logs ("response_flags": ...) and source locations of log lines
# (external/envoy/source/common/router/router.cc:1128, server.go:123) say where, not what.
_JSON_KEY_RE = re.compile(r'"[A-Za-z_][\w.-]*"[ \t]*:')
_SOURCE_FILE_RE = re.compile(r"(?<![\w./-])[\w./-]+\.(?:cc|h|go|py|java|rs|js|ts|rb|c|cpp)(?::\d+)?\b")
# CamelCase and ACRONYMWords boundaries: InvalidCertificate, SSLHandshakeException.
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_HTTP_VERSION_RE = re.compile(r"\bHTTP/(1\.0|1\.1|2(?:\.0)?|3)\b", re.I)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
# A typed token is written into the text behind this mark, so the word splitter keeps it whole.
TYPED = "\x1e"
_WORD_RE = re.compile(TYPED + r"?[A-Za-z0-9_]+")
_NOISE_TOKEN_RE = re.compile(r"^(?:\d+|\d+[a-z]{1,3}|v\d+(?:alpha|beta)?\d*|[a-z]\d*|0x[0-9a-f]+)$")
# Real HTTP error statuses only: 443 or 500-something durations must not become statuses.
HTTP_STATUSES = frozenset(
    [str(code) for code in (*range(400, 419), *range(421, 427), 428, 429, 431, 451, *range(500, 509), 510, 511)]
)


@dataclass
class Normalized:
    """A paste reduced to what carries meaning."""

    tokens: list[str] = field(default_factory=list)  # every kept token, in order, duplicates kept
    lines: list[list[str]] = field(default_factory=list)  # tokens per input line that kept any
    sources: list[str] = field(default_factory=list)  # the original text of each of those lines
    truncated: bool = False
    original_length: int = 0

    @property
    def text(self) -> str:
        return "\n".join(" ".join(line) for line in self.lines)

    @property
    def unique_tokens(self) -> list[str]:
        return list(dict.fromkeys(self.tokens))

    @property
    def codes(self) -> list[str]:
        return [t for t in self.unique_tokens if is_code(t)]


def is_code(token: str) -> bool:
    """Typed tokens (status, flag, curl, IST, cluster port) and response-code details."""
    return "_" in token or (token.startswith("ist") and token[3:].isdigit())


def _typed(*tokens: str) -> str:
    return " " + " ".join(TYPED + token for token in tokens) + " "


def _flags(match: re.Match) -> str:
    names = match[1].split(",")
    if all(name in RESPONSE_FLAGS for name in names):
        return _typed(*(f"flag_{name.lower()}" for name in names))
    return match[0]


# Noise always contains a digit, so only the digit-bearing chunks of a paste are examined:
# one cheap pass instead of many regexes over the whole text.
# The look-behind pins each match to the start of a chunk, which keeps the scan linear.
_DIGIT_CHUNK_RE = re.compile(r"(?<![^\s\"'()<>,;])[^\s\"'()<>,;\d]*\d[^\s\"'()<>,;]*")
_CHUNK_NOISE = (*_TIMESTAMP_RES, _UUID_RE, _IPV4_RE, _IPV6_RE, _HOST_PORT_RE, _LONG_HEX_RE)


def _clean_chunk(match: re.Match) -> str:
    chunk = match[0]
    for pattern in _CHUNK_NOISE:
        chunk = pattern.sub(" ", chunk)
    return chunk


def _specials(match: re.Match) -> str:
    curl, ist, direction, port = match.group(1, 2, 3, 4)
    if curl:
        return _typed(f"curl_{int(curl)}") + "curl "
    if ist:
        return _typed(f"ist{ist}")
    if direction:
        return _typed(direction.lower(), *([f"port_{port}"] if port else []))
    return " error "  # an OpenSSL "error:1408F10B:" prefix: the hex code adds nothing to the reason


_SPECIALS_RE = re.compile(
    "|".join(pattern.pattern for pattern in (_CURL_RE, _IST_RE, _CLUSTER_RE, _OPENSSL_HEX_RE)), re.I
)


def _strip_noise(text: str) -> str:
    """Replace noise with spaces and meaningful codes with typed tokens, line by line."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _CONTROL_RE.sub(" ", text)
    text = _SPECIALS_RE.sub(_specials, text)
    text = _HTTP_VERSION_RE.sub(lambda m: _typed("http" + m[1].replace(".", "")[:2]), text)
    text = _JSON_KEY_RE.sub(" ", text)
    text = _SOURCE_FILE_RE.sub(" ", text)
    text = _TIMESTAMP_RES[1].sub(" ", text)  # the klog header spans several chunks
    text = _DIGIT_CHUNK_RE.sub(_clean_chunk, text)
    text = _POD_SUFFIX_RE.sub(" ", text)
    return _FLAGS_RE.sub(_flags, text)


@lru_cache(maxsize=65536)
def _word_tokens(word: str) -> tuple[str, ...]:
    if word[0] == TYPED:
        return (word[1:],)
    lowered = word.lower()
    if lowered in HTTP_STATUSES:
        return (f"http_{lowered}",)
    if "_" in lowered.strip("_"):
        lowered = lowered.strip("_")
        # Also the parts: "connection_failure" should meet "connection failure".
        return (lowered, *(p for p in lowered.split("_") if len(p) > 1 and p not in STOPWORDS and not p.isdigit()))
    if len(lowered) > 1 and lowered not in STOPWORDS and not _NOISE_TOKEN_RE.match(lowered):
        parts = _CAMEL_RE.split(word)
        if len(parts) > 1:  # also the words of an identifier: InvalidCertificate meets "invalid certificate"
            return (lowered, *(p.lower() for p in parts if len(p) > 1 and p.lower() not in STOPWORDS))
        return (lowered,)
    return ()


def _line_tokens(line: str) -> list[str]:
    out: list[str] = []
    for word in _WORD_RE.findall(line):
        out.extend(_word_tokens(word))
    return out


def normalize(text: str, limit: int = MAX_QUERY_CHARS) -> Normalized:
    """Normalise a paste of any size and content; never raises for odd input."""
    text = text or ""
    result = Normalized(original_length=len(text))
    if len(text) > limit:
        text = text[:limit]
        result.truncated = True
    raw_lines = text.split("\n")
    stripped = _strip_noise(text).split("\n")
    for raw_line, line in zip(raw_lines, stripped):
        tokens = _line_tokens(line)
        if tokens:
            result.lines.append(tokens)
            result.sources.append(" ".join(raw_line.split())[:MAX_SOURCE_LINE])
            result.tokens.extend(tokens)
    return result
