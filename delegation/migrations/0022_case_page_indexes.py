from django.db import migrations, models


class Migration(migrations.Migration):
    """The case page's two reads that grew with the data: what each of the customer's other cases
    granted is summed from the index of a case's decisions alone (it now carries their status and
    final amount), and the guidance notes approvers shared are found without reading every
    escalation."""

    dependencies = [
        ('delegation', '0021_decision_composite_indexes_only'),
    ]

    # The new index of a case's decisions is built before the old one goes, so they are never without one.
    operations = [
        migrations.AddIndex(
            model_name='decision',
            index=models.Index(fields=['case', 'created_at'], include=('status', 'final_amount'), name='decision_case_granted'),
        ),
        migrations.RemoveIndex(
            model_name='decision',
            name='decision_case_time',
        ),
        migrations.AddIndex(
            model_name='escalation',
            index=models.Index(condition=models.Q(('share_as_guidance', True), models.Q(('note', ''), _negated=True)), fields=['-decided_at', '-id'], name='escalation_shared_guidance'),
        ),
    ]
