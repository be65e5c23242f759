"""Chinese search over product knowledge, as the scripts' (replies 0002): SQLite FTS5 with the
trigram tokenizer (kept in sync by quality.knowledge.fts_sync), PostgreSQL pg_trgm on search_text."""

from django.db import migrations

FTS = "quality_knowledge_fts"


def forwards(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "sqlite":
            cur.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(body, tokenize='trigram')")
        elif conn.vendor == "postgresql":
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cur.execute("CREATE INDEX IF NOT EXISTS quality_knowledge_trgm ON quality_productknowledge "
                        "USING gin (search_text gin_trgm_ops)")


def backwards(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "sqlite":
            cur.execute(f"DROP TABLE IF EXISTS {FTS}")
        elif conn.vendor == "postgresql":
            cur.execute("DROP INDEX IF EXISTS quality_knowledge_trgm")


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
