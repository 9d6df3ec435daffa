from django.db import migrations


class Migration(migrations.Migration):
    """The customers' e-mails live in the outbox now (see 0004)."""

    dependencies = [
        ('feedback', '0004_customer_emails_to_outbox'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='followup',
            name='reply_emailed_at',
        ),
        migrations.RemoveField(
            model_name='survey',
            name='emailed_at',
        ),
    ]
