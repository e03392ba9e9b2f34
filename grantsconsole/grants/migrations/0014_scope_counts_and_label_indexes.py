# Grant rows carry their app's label and each scope stores how many present
# apps hold it (the rows already there are filled from the apps and grants);
# present apps get a label index of their own.

from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery


def fill_labels_and_counts(apps, schema_editor):
    OktaApp = apps.get_model("grants", "OktaApp")
    ScopeGrant = apps.get_model("grants", "ScopeGrant")
    ScopeCount = apps.get_model("grants", "ScopeCount")
    label = OktaApp.objects.filter(pk=OuterRef("app_id")).values("label")
    ScopeGrant.objects.update(app_label=Subquery(label))
    ScopeCount.objects.bulk_create(
        ScopeCount(scope_id=row["scope_id"], holders=row["n"])
        for row in ScopeGrant.objects.filter(revoked_at=None, app__removed_at=None)
        .order_by()
        .values("scope_id")
        .annotate(n=Count("pk"))
    )


class Migration(migrations.Migration):

    dependencies = [
        ('grants', '0013_okta_person'),
    ]

    operations = [
        migrations.CreateModel(
            name='ScopeCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope_id', models.CharField(max_length=200, unique=True)),
                ('holders', models.IntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name='scopegrant',
            name='app_label',
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddIndex(
            model_name='scopegrant',
            index=models.Index(condition=models.Q(('revoked_at__isnull', True)), fields=['scope_id', 'app_label'], name='grants_grant_holder_idx'),
        ),
        migrations.AddIndex(
            model_name='oktaapp',
            index=models.Index(condition=models.Q(('removed_at__isnull', True)), fields=['label', 'okta_id'], name='grants_app_present_idx'),
        ),
        migrations.RunPython(fill_labels_and_counts, migrations.RunPython.noop),
    ]
