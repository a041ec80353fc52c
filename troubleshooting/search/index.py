"""What an article contributes to the search index. Pure Python, no Django.

Computed once when an article is loaded, so a query never re-normalises article text:
per-symptom token lists (matched against the paste), the article's codes (response flags,
istioctl codes, statuses, details), and the distinct terms of its title, summary and body.
"""

from __future__ import annotations

from dataclasses import dataclass

from .normalize import is_code, normalize

# Enough for any real article; keeps a pathological file from bloating the index.
MAX_BODY_TERMS = 3000
# Bump when normalisation or these fields change: loadarticles then re-indexes every article.
INDEX_VERSION = 4


@dataclass
class SearchFields:
    symptom_tokens: list[list[str]]
    codes: list[str]
    terms: dict[str, list[str]]  # field -> distinct tokens, for "title", "summary", "body"
    # The full-text index's columns: text already split into the normaliser's terms, so
    # SQLite's and PostgreSQL's own tokenisers cannot disagree about what a term is.
    symptoms_text: str
    codes_text: str
    body_text: str


def _distinct(tokens: list[str], limit: int | None = None) -> list[str]:
    distinct = list(dict.fromkeys(tokens))
    return distinct[:limit] if limit else distinct


def build_search_fields(
    *, title: str, summary: str, sections: dict[str, str], symptoms: list[str], analyzer_codes: list[str],
    response_flags: list[str],
) -> SearchFields:
    symptom_tokens = [normalize(text).tokens for text in symptoms]
    codes = [f"ist{code[3:]}" for code in analyzer_codes] + [f"flag_{flag.lower()}" for flag in response_flags]
    for tokens in symptom_tokens:
        codes.extend(token for token in tokens if is_code(token))
    body = "\n\n".join(sections.values())
    terms = {
        "title": _distinct(normalize(title).tokens),
        "summary": _distinct(normalize(summary).tokens),
        "body": _distinct(normalize(body, limit=len(body)).tokens, MAX_BODY_TERMS),
    }
    return SearchFields(
        symptom_tokens=symptom_tokens,
        codes=_distinct(codes),
        terms=terms,
        symptoms_text="\n".join(" ".join(tokens) for tokens in symptom_tokens),
        codes_text=" ".join(_distinct(codes)),
        body_text=" ".join(_distinct(terms["title"] + terms["summary"] + terms["body"])),
    )
