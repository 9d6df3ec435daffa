from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    """Apart from the backfill (0018): PostgreSQL refuses to alter a table with the backfill's
    foreign-key checks still pending in the same transaction."""

    dependencies = [
        ('delegation', '0018_decision_customer'),
    ]

    # The covering index is built before the old one goes, so the what-if is never without one.
    operations = [
        migrations.AlterField(
            model_name='decision',
            name='customer',
            field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='empower.customer', verbose_name='customer'),
        ),
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(fields=['decision_type', 'created_at', 'id'], include=('made_by', 'customer', 'amount', 'final_amount', 'status', 'within_authority', 'decided_at'), name='decision_type_replay'),
        ),
        migrations.RemoveIndex(
            model_name='decision',
            name='decision_type_time',
        ),
    ]
