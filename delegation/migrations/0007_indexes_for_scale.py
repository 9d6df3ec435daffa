"""Indexes the pages ask for at scale (issue 10, item 4), read from EXPLAIN ANALYZE on 1 million
decisions and 161,000 escalations.

- `escalation_assigned_approver`: the escalations waiting for an answer, by approver (a few hundred
  of 161,000): the header's count and the inbox's open part read it.
- `decision_beyond_authority_case`: the cases where a decision went beyond the maker's authority,
  for the insights' "escalated" semi-join (one decision in six).

The same indexes stand in the models' `Meta.indexes`.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("delegation", "0006_admins_told_once_keys"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="escalation",
            index=models.Index(
                fields=["approver"], condition=models.Q(status="assigned"), name="escalation_assigned_approver"
            ),
        ),
        migrations.AddIndex(
            model_name="decision",
            index=models.Index(
                fields=["case"], condition=models.Q(within_authority=False), name="decision_beyond_authority_case"
            ),
        ),
    ]
