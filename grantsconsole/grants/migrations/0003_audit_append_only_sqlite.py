"""On SQLite too, triggers refuse UPDATE and DELETE on the audit tables
(see grantsconsole/grants/append_only.py for how Django's test flush passes)."""

from django.db import migrations

from grantsconsole.grants.append_only import TABLES, trigger_sql


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        for operation in ("UPDATE", "DELETE"):
            schema_editor.execute(trigger_sql(table, operation))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        for operation in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{operation}")


class Migration(migrations.Migration):
    dependencies = [("grants", "0002_audit_append_only_triggers")]

    operations = [migrations.RunPython(forwards, backwards)]
