"""Give the `escalation.admins_told` records written before `audit_once` their once-only key.

Telling the administrators of an unroutable escalation is now recorded with `audit_once(key=
"step:<id>")`, which finds an earlier telling by its key alone. Records written before carry no key:
without this, an escalation already unroutable at deploy (whose task is delivered again, or which
an operator asks about again) would tell the administrators twice. The key is computed exactly as
`empower.services.audit_once` computes it (copied here: a migration must not change when that does).
"""

import hashlib

from django.db import migrations

ACTION = "escalation.admins_told"


def _once_key(action: str, target_type: str, target_id: str, key: str, max_length: int) -> str:
    once_key = f"{action}|{target_type}|{target_id}|{key}"
    if len(once_key) > max_length:
        once_key = hashlib.sha256(once_key.encode()).hexdigest()
    return once_key


def backfill(apps, schema_editor):
    AuditRecord = apps.get_model("empower", "AuditRecord")
    max_length = AuditRecord._meta.get_field("once_key").max_length
    taken = set(AuditRecord.objects.filter(once_key__isnull=False).values_list("once_key", flat=True))
    records = (
        AuditRecord.objects.filter(action=ACTION, once_key__isnull=True)
        .order_by("created_at", "id")
        .values_list("pk", "target_type", "target_id", "after")
    )
    for pk, target_type, target_id, after in records.iterator():
        if not isinstance(after, dict) or "step" not in after:
            continue
        once_key = _once_key(ACTION, target_type, target_id, f"step:{after['step']}", max_length)
        if once_key in taken:  # told twice before (a race the old code allowed): the first keeps the key
            continue
        taken.add(once_key)
        # Audit records are append-only for the application; this fills in a key, nothing they say.
        AuditRecord.objects.filter(pk=pk).update(once_key=once_key)


def forget(apps, schema_editor):
    AuditRecord = apps.get_model("empower", "AuditRecord")
    AuditRecord.objects.filter(action=ACTION).update(once_key=None)


class Migration(migrations.Migration):
    dependencies = [
        ("delegation", "0005_decision_approval_snapshot"),
        ("empower", "0003_outgoingemail_audit_once_key"),
    ]

    operations = [migrations.RunPython(backfill, forget)]
