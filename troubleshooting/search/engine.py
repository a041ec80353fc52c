"""Find the failure articles that match a pasted error.

1. The paste is normalised (normalize.py): noise out, codes kept as typed tokens.
2. The database's full-text index picks candidate articles for the paste's most telling
   terms (backends.py: FTS5 on SQLite, tsvector on PostgreSQL).
3. Each candidate is scored here, in Python, from what was stored at load time, so the
   order is the same on every database:

   - symptoms, the strongest signal: how much of a verbatim symptom string the paste
     contains (weighted by how rare each word is), and whether it appears as a run;
   - codes: response flags, istioctl codes, statuses, response-code details, curl errors;
   - text: the paste's words in the title, summary and body.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

from django.db.models import Count

from .backends import candidate_ids
from .normalize import Normalized, is_code, normalize

MAX_QUERY_TERMS = 400  # distinct tokens looked up from one paste
MAX_INDEX_TERMS = 24  # terms sent to the full-text index, rarest first
COMMON_TERM_SHARE = 0.2  # terms in more than this share of articles only pick candidates when nothing rarer exists
MIN_INDEX_TERMS = 4
MAX_INDEX_CODES = 8
CANDIDATES = 50
DEFAULT_LIMIT = 10
MIN_SCORE = 1.0
MAX_POSITIONS = 64  # occurrences of one token considered when looking for runs

CODE_WEIGHTS = (("ist", 3.0), ("flag_", 2.0), ("curl_", 1.5), ("http_", 1.0))
DETAIL_WEIGHT = 2.0  # response-code details and other snake_case identifiers
FIELD_WEIGHTS = {"title": 3.0, "summary": 2.0, "body": 1.0}
TEXT_FACTOR = 0.15
FULL_MATCH = 0.7
_MARK_WORD_RE = re.compile(r"[A-Za-z0-9_]+|[^A-Za-z0-9_]+")


@dataclass
class Hit:
    slug: str
    title: str
    severity: str
    summary: str
    score: float
    matched: str  # the symptom that matched, the codes, or a plain snippet
    matched_kind: str  # "symptom", "codes" or "text"
    seen_in: str = ""  # for a symptom match: where that string is seen
    line: str = ""  # for a symptom match: the line of the paste that matched
    snippet_html: str = ""  # for a text match: the summary with matched words marked (escaped HTML)

    def to_dict(self) -> dict:
        return {"slug": self.slug, "title": self.title, "score": round(self.score, 3), "matched": self.matched}


@dataclass
class SearchResult:
    query: str
    normalized: Normalized
    hits: list[Hit] = field(default_factory=list)

    @property
    def notice(self) -> str:
        if self.normalized.truncated:
            from .normalize import MAX_QUERY_CHARS

            return (
                f"Your paste has {self.normalized.original_length:,} characters; "
                f"only the first {MAX_QUERY_CHARS:,} were searched."
            )
        return ""

    def to_dict(self) -> dict:
        data = {
            "query": self.query,
            "normalized": self.normalized.text,
            "results": [hit.to_dict() for hit in self.hits],
        }
        if self.notice:
            data["notice"] = self.notice
        return data


def _code_weight(token: str) -> float:
    for prefix, weight in CODE_WEIGHTS:
        if token.startswith(prefix):
            return weight
    return DETAIL_WEIGHT


class _Query:
    """The paste's tokens with their rarity, and where each occurs (for runs)."""

    def __init__(self, normalized: Normalized, document_counts: dict[str, int], total: int):
        self.idf = {t: math.log(1 + total / n) for t, n in document_counts.items()}
        self.tokens = set(self.idf)
        self.words = {t for t in self.tokens if not is_code(t)}
        self.weight = sum(self.idf.values()) or 1.0
        self.positions: dict[str, list[tuple[int, int]]] = {}
        for line_number, line in enumerate(normalized.lines):
            for position, token in enumerate(line):
                if token in self.tokens:
                    found = self.positions.setdefault(token, [])
                    if len(found) < MAX_POSITIONS:
                        found.append((line_number, position))

    def longest_run(self, tokens: list[str]) -> tuple[int, int]:
        """Longest run of consecutive symptom tokens found consecutively on one paste line."""
        best, best_line, previous = 0, -1, {}
        for token in tokens:
            current = {}
            for line_number, position in self.positions.get(token, ()):
                length = previous.get((line_number, position - 1), 0) + 1
                current[(line_number, position)] = length
                if length > best:
                    best, best_line = length, line_number
            previous = current
        return best, best_line


def _symptom_score(query: _Query, tokens: list[str]) -> tuple[float, int]:
    """Score one symptom against the paste, and the paste line that matched best."""
    distinct = set(tokens)
    matched = distinct & query.tokens
    if not matched:
        return 0.0, -1
    # Tokens unknown to the index cannot occur in a symptom (symptoms are indexed), so
    # every symptom token has a weight; a tiny floor keeps an empty symptom harmless.
    total = sum(query.idf.get(t, 1.0) for t in distinct) or 1.0
    hit = sum(query.idf[t] for t in matched)
    coverage = hit / total
    share = hit / query.weight
    if coverage < 0.3 and share < 0.5:
        return hit * coverage * coverage, -1
    run, line = query.longest_run(tokens)
    contiguity = run / max(len(tokens), 1)
    # A symptom is an example: its object names rarely match the paste's. Seven tenths of
    # its weight counts as a full match.
    strength = min(1.0, max(coverage, share) / FULL_MATCH)
    score = hit * strength * strength * (0.6 + 0.4 * contiguity)
    return score, line


def _mark(text: str, tokens: set[str]) -> str:
    """Escape text and wrap the words that match the paste in <mark>."""
    parts = []
    for piece in _MARK_WORD_RE.findall(text):
        escaped = html.escape(piece)
        parts.append(f"<mark>{escaped}</mark>" if piece.lower() in tokens else escaped)
    return "".join(parts)


def _index_terms(counts: dict[str, int], total: int, codes: list[str]) -> list[str]:
    """The terms that pick candidates: codes, then the rarest words; common words only as a fallback.

    A word found in most articles neither narrows the candidates nor is cheap to look up.
    """
    by_rarity = sorted((t for t in counts if t not in codes), key=lambda t: (counts[t], t))
    rare = [t for t in by_rarity if counts[t] <= COMMON_TERM_SHARE * total]
    if len(rare) < MIN_INDEX_TERMS:
        rare = by_rarity[:MIN_INDEX_TERMS]
    picked_codes = sorted(codes, key=lambda t: (counts[t], t))[:MAX_INDEX_CODES]
    return (picked_codes + rare)[:MAX_INDEX_TERMS]


def search(text: str, limit: int = DEFAULT_LIMIT, using: str = "default") -> SearchResult:
    """Rank the catalog's articles for a paste. Any input is safe."""
    from troubleshooting.models import Article, SearchTerm, Symptom

    normalized = normalize(text)
    result = SearchResult(query=text, normalized=normalized)
    distinct = normalized.unique_tokens[:MAX_QUERY_TERMS]
    if not distinct:
        return result
    counts = dict(SearchTerm.objects.using(using).filter(term__in=distinct).values_list("term", "articles"))
    if not counts:
        return result
    total = Article.objects.using(using).count()
    query = _Query(normalized, counts, total)

    codes = [t for t in distinct if t in counts and is_code(t)]
    if total <= CANDIDATES:  # a small catalog: every article is a candidate
        ids = list(Article.objects.using(using).values_list("id", flat=True))
    else:
        ids = candidate_ids(_index_terms(counts, total, codes), CANDIDATES, using=using)
    if not ids:
        return result

    articles = (
        Article.objects.using(using)
        .filter(id__in=ids)
        .only("id", "slug", "title", "severity", "summary", "search_codes", "search_terms")
    )
    symptoms: dict[int, list[tuple[str, str, list[str]]]] = {}
    for article_id, symptom_text, seen_in, tokens in (
        Symptom.objects.using(using).filter(article_id__in=ids).values_list("article_id", "text", "seen_in", "tokens")
    ):
        symptoms.setdefault(article_id, []).append((symptom_text, seen_in, tokens))

    hits = []
    for article in articles:
        best = (0.0, -1, "", "")
        others = 0.0
        for symptom_text, seen_in, tokens in symptoms.get(article.id, ()):
            score, line = _symptom_score(query, tokens)
            if score > best[0]:
                others += best[0]
                best = (score, line, symptom_text, seen_in)
            else:
                others += score
        symptom_score = best[0] + 0.2 * others

        article_codes = set(article.search_codes.split())
        matched_codes = [c for c in codes if c in article_codes]
        code_score = sum(query.idf[c] * _code_weight(c) for c in matched_codes)

        # Each word counts once, in the most important field that has it.
        text_score, counted = 0.0, set()
        for name, weight in FIELD_WEIGHTS.items():
            found = query.words.intersection(article.search_terms.get(name, "").split()) - counted
            text_score += weight * sum(query.idf[t] for t in found)
            counted |= found
        score = symptom_score + code_score + TEXT_FACTOR * text_score
        if score < MIN_SCORE:
            continue

        hit = Hit(
            slug=article.slug, title=article.title, severity=article.severity, summary=article.summary, score=score,
            matched="", matched_kind="text",
        )
        if best[0] >= max(code_score, 1.0):
            hit.matched, hit.matched_kind, hit.seen_in = best[2], "symptom", best[3]
            hit.line = normalized.sources[best[1]] if best[1] >= 0 else ""
        elif matched_codes:
            hit.matched = "codes: " + ", ".join(_display_code(c) for c in matched_codes)
            hit.matched_kind = "codes"
        else:
            hit.matched = article.summary[:240]
            hit.snippet_html = _mark(article.summary[:240], query.tokens)
        hits.append(hit)

    hits.sort(key=lambda h: (-h.score, h.slug))
    result.hits = hits[:limit]
    return result


def _display_code(token: str) -> str:
    for prefix, label in (("flag_", "flag "), ("http_", "HTTP "), ("curl_", "curl error ")):
        if token.startswith(prefix):
            value = token[len(prefix):]
            return label + (value.upper() if prefix == "flag_" else value)
    if token.startswith("ist"):
        return token.upper()
    return token


def index_stats(using: str = "default") -> dict:
    """Sizes of the search index, for the management command and the benchmark."""
    from troubleshooting.models import Article, SearchTerm

    return {
        "articles": Article.objects.using(using).count(),
        "terms": SearchTerm.objects.using(using).count(),
        "symptoms": Article.objects.using(using).aggregate(n=Count("symptoms"))["n"],
    }
