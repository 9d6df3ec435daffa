from django.db import migrations


class Migration(migrations.Migration):
    """The notifications' e-mails live in the outbox now (see 0004)."""

    dependencies = [
        ('empower', '0004_notification_emails_to_outbox'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_email_unsent',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='email_attempts',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='email_claimed_at',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='email_error',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='emailed_at',
        ),
    ]
