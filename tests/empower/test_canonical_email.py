"""One customer, one mailbox, one cap (issue 13, item 2): every spelling of one address is one customer."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from delegation.models import UsageCounter
from delegation.services import decision_submit
from empower.emails import EMAIL_INVALID, canonical_email
from empower.errors import InvalidInput
from empower.models import Case, Customer
from empower.services import case_open, customer_find_or_create

SPELLINGS_OF_ONE_MAILBOX = [
    ("split2@ＥＸＡＭＰＬＥ.com", "split2@example.com"),  # full-width domain
    ("split1@example.com\u200b", "split1@example.com"),  # a zero-width space after it
    ("spl\u00adit1@exam\u200dple.com", "split1@example.com"),  # a soft hyphen, a zero-width joiner
    ("\ufeffSPLIT1@Example.COM.", "split1@example.com"),  # a byte-order mark, capitals, the root's dot
    ("jo@bücher.example", "jo@xn--bcher-kva.example"),  # Unicode domain → its IDNA form
    ("JO@XN--BCHER-KVA.EXAMPLE", "jo@xn--bcher-kva.example"),  # … which its punycode spelling is too
    ("ｊｏ@example.com", "jo@example.com"),  # a full-width local part
]
NOT_ADDRESSES = ["", "\u200b", "jo", "jo@", "@example.com", "jo@exa mple.com", "jo@xn--zz.example", "jo@example..com"]


@pytest.mark.parametrize(("raw", "canonical"), SPELLINGS_OF_ONE_MAILBOX)
def test_every_spelling_of_a_mailbox_has_one_canonical_form(raw, canonical):
    assert canonical_email(raw) == canonical
    assert canonical_email(canonical) == canonical  # and the canonical form is its own


@pytest.mark.parametrize("raw", NOT_ADDRESSES)
def test_what_is_still_no_address_is_refused(raw):
    with pytest.raises(ValidationError) as refused:
        canonical_email(raw)
    assert refused.value.messages == [str(EMAIL_INVALID)]


@pytest.mark.parametrize(("raw", "canonical"), SPELLINGS_OF_ONE_MAILBOX)
def test_the_service_finds_the_customer_by_any_spelling(db, raw, canonical):
    first = customer_find_or_create(name="Jo", email=canonical)
    assert customer_find_or_create(name="Jo again", email=raw) == first
    assert Customer.objects.filter(email=canonical).count() == 1


def test_the_service_refuses_what_is_no_address_and_creates_nothing(db):
    with pytest.raises(InvalidInput) as refused:
        customer_find_or_create(name="Jo", email="jo@exa mple.com")
    assert refused.value.field_errors == {"customer_email": [str(EMAIL_INVALID)]}
    assert not Customer.objects.filter(name="Jo").exists()


def test_the_database_keeps_one_customer_per_canonical_address(db):
    Customer.objects.create(name="Jo", email="jo@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(name="Jo twice", email="jo@example.com")


def test_the_api_and_the_page_open_cases_for_one_customer(org, api, client):
    body = {"customer": {"name": "Split One", "email": "split1@example.com"}, "subject": "Kettle"}
    assert api("alice").post("/api/v1/cases/", body).status_code == 201
    body["customer"]["email"] = "split1@example.com\u200b"
    answer = api("alice").post("/api/v1/cases/", body)
    assert answer.status_code == 201 and answer.json()["customer"]["email"] == "split1@example.com"
    client.force_login(org.alice.user)
    page = client.post(
        "/cases/new/",
        {"customer_name": "Split One", "customer_email": "SPLIT1@ＥＸＡＭＰＬＥ.com", "subject": "Kettle again"},
    )
    assert page.status_code == 302, page.content.decode()[:1000]
    customer = Customer.objects.get(email="split1@example.com")
    assert customer.cases.count() == 3 and not Customer.objects.exclude(pk=customer.pk).filter(name="Split One")


def test_the_api_and_the_page_refuse_an_address_in_the_same_words(org, api, client):
    bad = "jo@exa mple.com"
    answer = api("alice").post("/api/v1/cases/", {"customer": {"name": "Jo", "email": bad}, "subject": "Kettle"})
    assert answer.status_code == 400 and answer.json()["customer"]["email"] == [str(EMAIL_INVALID)]
    client.force_login(org.alice.user)
    page = client.post("/cases/new/", {"customer_name": "Jo", "customer_email": bad, "subject": "Kettle"})
    assert page.status_code == 400 and str(EMAIL_INVALID) in page.content.decode()
    assert not Case.objects.filter(subject="Kettle").exists()


def test_a_second_spelling_does_not_open_a_fresh_per_customer_cap(org):
    """alice may refund 200.00 per customer per month: 150.00 for split1@example.com leaves 50.00, also
    when the next case names the same mailbox with a zero-width space after it."""
    first = case_open(employee=org.alice, customer_name="S", customer_email="split1@example.com", subject="One")
    second = case_open(employee=org.alice, customer_name="S", customer_email="split1@example.com\u200b", subject="Two")
    assert first.customer_id == second.customer_id
    decision_submit(employee=org.alice, case=first, decision_type=org.refund, amount=Decimal("90.00"), rationale="a")
    decision_submit(employee=org.alice, case=first, decision_type=org.refund, amount=Decimal("60.00"), rationale="b")
    decision = decision_submit(
        employee=org.alice, case=second, decision_type=org.refund, amount=Decimal("60.00"), rationale="c"
    )
    assert decision.status == "escalated" and "per_customer_month" in decision.exceeded


def test_the_admin_stores_the_canonical_form_and_refuses_a_second_customer_for_a_mailbox(org, client):
    client.force_login(get_user_model().objects.get(username="admin"))
    form = {"name": "Jo", "email": "JO@ＥＸＡＭＰＬＥ.com\u200b", "language": "en"}
    assert client.post("/admin/empower/customer/add/", form).status_code == 302
    assert Customer.objects.filter(email="jo@example.com").count() == 1
    again = client.post("/admin/empower/customer/add/", {**form, "email": "jo@example.com"})
    assert again.status_code == 200 and "already exists" in again.content.decode()
    assert Customer.objects.filter(email="jo@example.com").count() == 1


# The data migration -------------------------------------------------------------------------------

BEFORE = [("delegation", "0007_indexes_for_scale"), ("empower", "0008_indexes_for_scale")]


@pytest.fixture
def migrator(transactional_db):
    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_merges_duplicates_without_losing_a_case_or_a_counter(org, migrator):
    old = migrator(BEFORE)
    OldCustomer, OldCase = old.get_model("empower", "Customer"), old.get_model("empower", "Case")
    OldCounter = old.get_model("delegation", "UsageCounter")

    def customer(email):
        made = OldCustomer.objects.create(name="Split", email=email)
        OldCase.objects.create(
            customer_id=made.pk,
            team_id=org.alice.team_id,
            assigned_to_id=org.alice.pk,
            created_by_id=org.alice.pk,
            subject=f"Case of {email}",
        )
        return made.pk

    keep = customer("split1@example.com")
    spaced = customer("split1@example.com\u200b")
    wide = customer("SPLIT1@ＥＸＡＭＰＬＥ.COM")
    other = customer("Other@Example.com")
    refund, goodwill = org.refund.pk, org.goodwill.pk
    for pk, type_id, month, amount in [
        (keep, refund, "2026-11", "150.00"),
        (spaced, refund, "2026-11", "40.00"),  # added to keep's November refunds
        (wide, refund, "2026-11", "5.50"),  # … and so is this
        (spaced, refund, "2026-10", "30.00"),  # keep has none for October: it becomes keep's
        (wide, goodwill, "2026-11", "20.00"),  # nor for goodwill
        (other, refund, "2026-11", "70.00"),  # another mailbox: untouched
    ]:
        OldCounter.objects.create(key=f"cust:{pk}:dt:{type_id}:month:{month}", amount=Decimal(amount))
    OldCounter.objects.create(key=f"emp:{org.alice.pk}:dt:{refund}:month:2026-11", amount=Decimal("195.50"))

    migrator(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert set(Customer.objects.filter(name="Split").values_list("pk", "email")) == {
        (keep, "split1@example.com"),
        (other, "other@example.com"),
    }
    assert Case.objects.filter(subject__startswith="Case of ", customer_id=keep).count() == 3
    counters = dict(UsageCounter.objects.filter(key__startswith="cust:").values_list("key", "amount"))
    assert counters == {
        f"cust:{keep}:dt:{refund}:month:2026-11": Decimal("195.50"),
        f"cust:{keep}:dt:{refund}:month:2026-10": Decimal("30.00"),
        f"cust:{keep}:dt:{goodwill}:month:2026-11": Decimal("20.00"),
        f"cust:{other}:dt:{refund}:month:2026-11": Decimal("70.00"),
    }
    # The employee's own counters are not the customer's: untouched.
    assert UsageCounter.objects.get(key=f"emp:{org.alice.pk}:dt:{refund}:month:2026-11").amount == Decimal("195.50")
