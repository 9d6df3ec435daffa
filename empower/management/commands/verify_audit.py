"""`python manage.py verify_audit`: walk the audit trail's hash chain and name the first record that
does not match. Exit status 0 when the whole chain holds, 1 otherwise (for a cron job or monitoring)."""

from django.core.management.base import BaseCommand, CommandError

from empower.audit_chain import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; name the first record that does not match."

    def handle(self, *args, **options) -> None:
        report = audit_chain_verify()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"The audit chain holds: {report.checked} records checked."))
            return
        record = report.first_bad
        where = (
            f"audit record #{record.pk} (place {record.chain_seq}, {record.action} on "
            f"{record.target_type}#{record.target_id}, {record.created_at.isoformat()})"
            if record is not None
            else "the chain's end"
        )
        self.stderr.write(f"The audit chain is broken at {where}: {report.problem}.")
        self.stderr.write(f"{report.checked} records before it match.")
        raise CommandError(f"verify_audit: first mismatch at {where}", returncode=1)
