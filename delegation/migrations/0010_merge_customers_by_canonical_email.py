"""One customer per mailbox (issue 13, item 2): customers whose addresses are one mailbox once written in
their canonical form (`empower.emails.canonical_email`) become one customer, before the database is
told to keep the canonical form unique (`empower` 0009, which this runs before).

Nothing is lost: the oldest customer of each group stays; the others' cases move to it, and their
per-customer monthly usage counters (`cust:<id>:dt:<type>:month:<YYYY-MM>`) are added to its counters
of the same type and month (or renamed to it where it has none), so the cap that remains counts every
approval that was made for that mailbox. Every remaining address is then stored in its canonical form.
An address that is not valid at all is kept as written (in lower case), so no customer disappears.

It lives in `delegation` because usage counters are delegation's; customers and cases are read through
the historical models. Merging cannot be undone: going back leaves the merged customers as they are.
"""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import migrations

from empower.emails import canonical_email


def _canonical_or_kept(email: str) -> str:
    try:
        return canonical_email(email)
    except ValidationError:
        return email.strip().lower()


def merge_customers(apps, schema_editor):
    Customer = apps.get_model("empower", "Customer")
    Case = apps.get_model("empower", "Case")
    UsageCounter = apps.get_model("delegation", "UsageCounter")

    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, email in Customer.objects.order_by("pk").values_list("pk", "email").iterator(chunk_size=5000):
        groups[_canonical_or_kept(email)].append((pk, email))

    for canonical, members in groups.items():
        (keep, kept_email), duplicates = members[0], [pk for pk, _email in members[1:]]
        if duplicates:
            Case.objects.filter(customer_id__in=duplicates).update(customer_id=keep)
            for duplicate in duplicates:
                prefix = f"cust:{duplicate}:"
                for counter in UsageCounter.objects.filter(key__startswith=prefix).order_by("key"):
                    target_key = f"cust:{keep}:{counter.key.removeprefix(prefix)}"
                    target = UsageCounter.objects.filter(key=target_key).first()
                    if target is None:
                        counter.key = target_key
                        counter.save(update_fields=["key"])
                    else:
                        target.amount += counter.amount
                        target.save(update_fields=["amount"])
                        counter.delete()
            Customer.objects.filter(pk__in=duplicates).delete()
        if kept_email != canonical:
            Customer.objects.filter(pk=keep).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [
        ("delegation", "0009_split_flags"),
        ("empower", "0010_audit_chain"),
    ]
    run_before = [("empower", "0011_customer_email_canonical_unique")]

    operations = [migrations.RunPython(merge_customers, migrations.RunPython.noop, elidable=False)]
