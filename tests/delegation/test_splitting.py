"""Splitting is seen: several decisions of one type for one customer within a short window whose sum
exceeds the maker's per-decision limit are flagged to their manager (not blocked), decisions linked."""

from datetime import timedelta
from decimal import Decimal as D

import time_machine
from django.utils import timezone

from delegation.models import Decision, SplitFlag
from delegation.services import decision_submit, splitting_detect
from delegation.tasks import detect_splitting
from empower.models import AuditRecord, Notification
from empower.services import case_open


def _decide(org, case, amount: str, at) -> Decision:
    with time_machine.travel(at, tick=False):
        return decision_submit(employee=org.alice, case=case, decision_type=org.refund, amount=D(amount), rationale="x")


def _case(org, email="split@example.com"):
    return case_open(employee=org.alice, customer_name="Jo Split", customer_email=email, subject="Kettle")


def test_three_small_refunds_for_one_customer_within_the_window_are_flagged_to_the_manager(org, api):
    start = timezone.now() - timedelta(minutes=30)
    case = _case(org)
    decisions = [_decide(org, case, "60.00", start + timedelta(minutes=m)) for m in (0, 10, 20)]
    assert all(d.status == Decision.Status.APPROVED for d in decisions)  # never blocked

    assert detect_splitting() == 1

    flag = SplitFlag.objects.get()
    assert flag.made_by == org.alice and flag.manager == org.bob
    assert sorted(d.pk for d in flag.decisions.all()) == sorted(d.pk for d in decisions)
    assert (flag.total, flag.per_decision) == (D("180.00"), D("100.00"))
    told = Notification.objects.get(recipient=org.bob, key=flag.key)
    assert "180.00" in told.message and told.url == "/authority/splits/"
    assert AuditRecord.objects.filter(action="decision.split_flagged", subject=org.alice).count() == 1

    listed = api("bob").get("/api/v1/split-flags/")
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["made_by"] == "alice" and row["decisions"] == sorted(d.pk for d in decisions)
    assert row["total"] == "180.00" and row["per_decision"] == "100.00"
    assert api("carol").get("/api/v1/split-flags/").json()["count"] == 1
    assert api("hank").get("/api/v1/split-flags/").json()["count"] == 0
    assert api("alice").get("/api/v1/split-flags/").json()["count"] == 0


def test_running_again_flags_and_tells_nothing_twice_and_a_later_part_joins_the_flag(org):
    start = timezone.now() - timedelta(minutes=40)
    case = _case(org)
    first = [_decide(org, case, "60.00", start + timedelta(minutes=m)) for m in (0, 5)]
    assert splitting_detect() == 1
    assert splitting_detect() == 0
    later = _decide(org, case, "30.00", start + timedelta(minutes=15))

    assert splitting_detect() == 0

    flag = SplitFlag.objects.get()
    assert sorted(d.pk for d in flag.decisions.all()) == sorted(d.pk for d in [*first, later])
    assert flag.total == D("150.00")
    assert Notification.objects.filter(recipient=org.bob, key=flag.key).count() == 1


def test_nothing_is_flagged_below_the_limit_outside_the_window_or_across_customers(org, settings):
    settings.EMPOWER_SPLIT_WINDOW_MINUTES = 60
    now = timezone.now()
    small = _case(org, "small@example.com")
    _decide(org, small, "40.00", now - timedelta(minutes=50))
    _decide(org, small, "50.00", now - timedelta(minutes=40))  # 90.00: within the limit of 100.00
    apart = _case(org, "apart@example.com")
    _decide(org, apart, "80.00", now - timedelta(minutes=110))
    _decide(org, apart, "80.00", now - timedelta(minutes=5))  # 105 minutes apart
    _decide(org, _case(org, "one@example.com"), "70.00", now - timedelta(minutes=20))
    _decide(org, _case(org, "two@example.com"), "70.00", now - timedelta(minutes=10))

    assert splitting_detect() == 0
    assert not SplitFlag.objects.exists()


def test_the_window_is_a_setting(org, settings):
    settings.EMPOWER_SPLIT_WINDOW_MINUTES = 180
    now = timezone.now()
    case = _case(org)
    _decide(org, case, "80.00", now - timedelta(minutes=150))
    _decide(org, case, "80.00", now - timedelta(minutes=5))

    assert splitting_detect() == 1
    assert SplitFlag.objects.get().window_minutes == 180


def test_detecting_costs_a_constant_number_of_queries(org, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(6):
        case = _case(org, f"quiet{n}@example.com")
        _decide(org, case, "20.00", now - timedelta(minutes=10 + n))
    with django_assert_max_num_queries(1):
        assert splitting_detect() == 0


def test_the_manager_sees_the_flag_on_a_page_and_outsiders_see_none(org, client):
    start = timezone.now() - timedelta(minutes=30)
    case = _case(org)
    decisions = [_decide(org, case, "60.00", start + timedelta(minutes=m)) for m in (0, 10)]
    splitting_detect()

    client.force_login(org.bob.user)
    page = client.get("/authority/splits/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('class="split-flag"') == 1 and "120.00" in body
    assert all(f"#{d.pk}" in body for d in decisions)
    client.force_login(org.hank.user)
    assert 'class="split-flag"' not in client.get("/authority/splits/").content.decode()
