from django.db import migrations, models


class Migration(migrations.Migration):
    """One outbox for every e-mail to a person; a once-only key for audit records of events that
    happen once."""

    dependencies = [
        ('empower', '0002_notification_email_state'),
    ]

    operations = [
        migrations.CreateModel(
            name='OutgoingEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=200, unique=True, verbose_name='event key')),
                ('to', models.EmailField(max_length=254, verbose_name='to')),
                ('subject', models.CharField(max_length=200, verbose_name='subject')),
                ('body', models.TextField(verbose_name='body')),
                ('language', models.CharField(choices=[('en', 'English'), ('is', 'Icelandic'), ('zh-hans', 'Simplified Chinese'), ('ru', 'Russian'), ('pl', 'Polish')], default='en', max_length=10, verbose_name='language')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('send_until', models.DateTimeField(help_text='The periodic re-send gives up after this.', verbose_name='send until')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='being sent since')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('last_error', models.CharField(blank=True, max_length=300, verbose_name='last error')),
            ],
            options={
                'verbose_name': 'outgoing e-mail',
                'verbose_name_plural': 'outgoing e-mails',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['created_at'], name='outgoing_email_unsent')],
                'constraints': [models.CheckConstraint(condition=models.Q(('key', ''), _negated=True), name='outgoing_email_has_key')],
            },
        ),
        migrations.AddField(
            model_name='auditrecord',
            name='once_key',
            field=models.CharField(blank=True, editable=False, max_length=255, null=True, verbose_name='once-only key'),
        ),
        migrations.AddConstraint(
            model_name='auditrecord',
            constraint=models.UniqueConstraint(condition=models.Q(('once_key__isnull', False)), fields=('once_key',), name='audit_event_once'),
        ),
    ]
