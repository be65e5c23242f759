"""Chinese search over scripts: SQLite FTS5 with the trigram tokenizer, PostgreSQL pg_trgm.

The FTS5 table is kept in sync by the script services (no triggers, no signals); on PostgreSQL a
GIN trigram index serves LIKE '%…%' on title and body directly.
"""

from django.db import migrations

FTS = "replies_script_fts"


def forwards(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "sqlite":
            cur.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(title, body, tokenize='trigram')")
            cur.execute(f"INSERT INTO {FTS}(rowid, title, body) SELECT id, title, body FROM replies_script")
        elif conn.vendor == "postgresql":
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cur.execute("CREATE INDEX IF NOT EXISTS replies_script_title_trgm ON replies_script "
                        "USING gin (title gin_trgm_ops)")
            cur.execute("CREATE INDEX IF NOT EXISTS replies_script_body_trgm ON replies_script "
                        "USING gin (body gin_trgm_ops)")


def backwards(apps, schema_editor):
    conn = schema_editor.connection
    with conn.cursor() as cur:
        if conn.vendor == "sqlite":
            cur.execute(f"DROP TABLE IF EXISTS {FTS}")
        elif conn.vendor == "postgresql":
            cur.execute("DROP INDEX IF EXISTS replies_script_title_trgm")
            cur.execute("DROP INDEX IF EXISTS replies_script_body_trgm")


class Migration(migrations.Migration):
    dependencies = [("replies", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
