import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("empower", "0001_initial"),
        ("feedback", "0002_followup_frictionanswer_frictionreport_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="followup",
            name="on_behalf_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="empower.employee",
                verbose_name="standing in for",
            ),
        ),
        migrations.AddField(
            model_name="frictionreport",
            name="on_behalf_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="empower.employee",
                verbose_name="standing in for",
            ),
        ),
    ]
