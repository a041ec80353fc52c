"""Query the database full-text index (created by migration 0002_search_index).

SQLite has an FTS5 table over the article table, PostgreSQL a generated tsvector column
with a GIN index. The database keeps both in sync itself (triggers / a generated column),
so every write through the ORM updates them. They only pick candidates; the final ranking
is computed in Python (see engine.py), so results come in the same order on both.
"""

from __future__ import annotations

from django.db import connections, transaction

def candidate_ids(terms: list[str], limit: int, using: str = "default") -> list[int]:
    """Ids of the articles the full-text index ranks best for any of the terms, best first.

    Terms are normalised tokens (letters, digits and '_' only), so quoting them makes any
    paste safe: no FTS5 operator and no tsquery syntax can get through.
    """
    terms = [t for t in terms if t and t.replace("_", "").isalnum()]
    if not terms:
        return []
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " OR ".join(f'"{term}"' for term in terms)
            cursor.execute(
                "SELECT rowid FROM troubleshooting_article_fts WHERE troubleshooting_article_fts MATCH %s "
                "ORDER BY bm25(troubleshooting_article_fts, 10.0, 10.0, 1.0) LIMIT %s",
                [match, limit],
            )
        elif connection.vendor == "postgresql":
            # The vectors index terms without '_' (see migration 0005). A sequential scan must
            # read every row's large body vector, far slower than the planner believes, so
            # the GIN index is asked for explicitly.
            query = " | ".join(dict.fromkeys(term.replace("_", "") for term in terms))
            with transaction.atomic(using=using):
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(
                    "SELECT id FROM troubleshooting_article, to_tsquery('simple', %s) query "
                    "WHERE search_vector @@ query ORDER BY ts_rank(search_rank_vector, query) DESC, id LIMIT %s",
                    [query, limit],
                )
                return [row[0] for row in cursor.fetchall()]
        else:  # other databases: no full-text index; every article is a candidate
            cursor.execute("SELECT id FROM troubleshooting_article ORDER BY id LIMIT %s", [limit])
        return [row[0] for row in cursor.fetchall()]
