"""On PostgreSQL, triggers refuse UPDATE and DELETE on the audit tables.

The ORM already refuses them (models._AppendOnlyQuerySet); the trigger also stops
raw SQL and other clients of the database. SQLite gets no trigger: Django's
test flush empties tables with DELETE there, and SQLite has no separate TRUNCATE.
(On PostgreSQL the flush uses TRUNCATE, which row triggers do not see.)
"""

from django.db import migrations

TABLES = ("grants_auditevent", "grants_auditcheckpoint")

FUNCTION = """
CREATE OR REPLACE FUNCTION grants_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)  # no client-side % merging
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION grants_refuse_audit_change()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS grants_refuse_audit_change()")


class Migration(migrations.Migration):
    dependencies = [("grants", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
