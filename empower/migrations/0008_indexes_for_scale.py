"""Indexes the lists ask for at scale (issue 10, item 4), read from EXPLAIN ANALYZE on 690,000 cases.

- `case_team_recent`: a team's cases, the latest first (`GET /api/v1/cases/` of a team lead or a
  manager: the page is read from the index in order, no sort of the team's cases).
- `case_recent`: all cases, the latest first (a director, who sees nearly every team: the page is the
  first rows of the index, filtered by team).
- `notification_recipient_recent`: one person's notifications, the latest first, a page at a time.

The same indexes stand in the models' `Meta.indexes`.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("empower", "0007_outbox_field_labels"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["team", "-created_at", "-id"], name="case_team_recent"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["-created_at", "-id"], name="case_recent"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_recent"),
        ),
    ]
