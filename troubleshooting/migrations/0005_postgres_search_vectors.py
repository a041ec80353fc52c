from django.db import migrations

# PostgreSQL's text parser splits words at '_', so 'route_not_found' became a phrase query that
# must re-read every candidate row. The vectors now index the terms with '_' removed (the
# search removes it from query terms too), and a small second vector of the symptoms and codes
# alone ranks the candidates: ranking on the whole body vector meant reading it for every match.
CREATE = [
    "DROP INDEX IF EXISTS troubleshooting_article_search_vector",
    "ALTER TABLE troubleshooting_article DROP COLUMN IF EXISTS search_vector",
    """ALTER TABLE troubleshooting_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', replace(coalesce(search_codes, ''), '_', '')), 'A') ||
        setweight(to_tsvector('simple', replace(coalesce(search_symptoms, ''), '_', '')), 'A') ||
        setweight(to_tsvector('simple', replace(coalesce(search_body, ''), '_', '')), 'D')) STORED""",
    """ALTER TABLE troubleshooting_article ADD COLUMN search_rank_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', replace(coalesce(search_codes, ''), '_', '')) ||
        to_tsvector('simple', replace(coalesce(search_symptoms, ''), '_', ''))) STORED""",
    "CREATE INDEX troubleshooting_article_search_vector ON troubleshooting_article USING GIN (search_vector)",
]
DROP = [
    "DROP INDEX IF EXISTS troubleshooting_article_search_vector",
    "ALTER TABLE troubleshooting_article DROP COLUMN IF EXISTS search_rank_vector",
    "ALTER TABLE troubleshooting_article DROP COLUMN IF EXISTS search_vector",
    """ALTER TABLE troubleshooting_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(search_codes, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(search_symptoms, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(search_body, '')), 'D')) STORED""",
    "CREATE INDEX troubleshooting_article_search_vector ON troubleshooting_article USING GIN (search_vector)",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("troubleshooting", "0004_finding_display_index")]
    operations = [migrations.RunPython(forwards, backwards)]
