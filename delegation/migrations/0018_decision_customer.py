from django.db import migrations, models
import django.db.models.deletion

# Every decision's customer, from its case: one statement that reads the same on SQLite and PostgreSQL.
BACKFILL = """
UPDATE delegation_decision
SET customer_id = (SELECT empower_case.customer_id FROM empower_case WHERE empower_case.id = delegation_decision.case_id)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('delegation', '0017_decision_type_time_index'),
        ('empower', '0013_translated_role_and_team_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='decision',
            name='customer',
            field=models.ForeignKey(db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='empower.customer', verbose_name='customer'),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
