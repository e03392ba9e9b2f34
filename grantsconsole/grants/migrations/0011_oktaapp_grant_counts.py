# Each app stores its open grants' counts; the apps already there are counted
# from their rows.

from django.db import migrations, models
from django.db.models import Count, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from grantsconsole.okta import scopes as scope_catalog


def count_open_grants(apps, schema_editor):
    OktaApp = apps.get_model("grants", "OktaApp")
    ScopeGrant = apps.get_model("grants", "ScopeGrant")
    manage = Q(risk_rank__gt=0) & ~Q(scope_id__in=scope_catalog.rated_reads())

    def of_open_grants(aggregate):
        rows = (
            ScopeGrant.objects.filter(app=OuterRef("pk"), revoked_at=None)
            .order_by()
            .values("app")
            .annotate(v=aggregate)
            .values("v")
        )
        return Coalesce(Subquery(rows), Value(0))

    OktaApp.objects.update(
        grant_count=of_open_grants(Count("pk")),
        manage_count=of_open_grants(Count("pk", filter=manage)),
        max_risk_rank=of_open_grants(Max("risk_rank")),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('grants', '0010_full_sync_cursor'),
    ]

    operations = [
        migrations.AddField(
            model_name='oktaapp',
            name='grant_count',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='oktaapp',
            name='manage_count',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='oktaapp',
            name='max_risk_rank',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(count_open_grants, migrations.RunPython.noop),
    ]
