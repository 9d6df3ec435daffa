"""The authority back office: pages load, limits and delegations change only through audited services,
decisions and escalations are read-only, and operators find stuck work."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Delegation,
    Escalation,
    EscalationStep,
    ResponseTime,
    SplitFlag,
    UsageCounter,
)
from delegation.services import decision_submit, heartbeat_record
from empower.models import AuditRecord, Notification

D = Decimal
DELEGATION_MODELS = [model for model in admin.site._registry if model._meta.app_label == "delegation"]


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_web(org, client):
    """A browser session of the demo's `admin` superuser, who is not an employee."""
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.fixture
def submit(org, make_case, django_capture_on_commit_callbacks):
    """Alice decides a refund; `route=False` leaves an escalation waiting in "routing"."""

    def decide(amount: str, *, route: bool = True, employee=None) -> Decision:
        employee = employee or org.alice
        case = make_case(employee)
        with django_capture_on_commit_callbacks(execute=route):
            return decision_submit(
                employee=employee, case=case, decision_type=org.refund, amount=amount, rationale="Kettle broke"
            )

    return decide


@pytest.fixture
def delegation(org):
    now = timezone.now()
    d = Delegation.objects.create(
        delegator=org.carol,
        delegate=org.bob,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        reason="Holiday",
        created_by=org.carol,
    )
    d.decision_types.add(org.refund)
    return d


@pytest.fixture
def everything(org, submit, delegation):
    """At least one row of every model: an approved decision, a routed escalation and the rest."""
    submit("50.00")
    submit("150.00")
    ResponseTime.objects.create(decision_type=org.refund, level=2, hours=2)
    heartbeat_record()
    decision = Decision.objects.filter(status="approved").first()
    flag = SplitFlag.objects.create(
        key="split:test",
        made_by=decision.made_by,
        decision_type=decision.decision_type,
        customer_id=decision.case.customer_id,
        total="150.00",
        per_decision="100.00",
        currency="EUR",
        window_minutes=60,
    )
    flag.decisions.add(decision)


def test_every_authority_model_is_registered():
    names = {model.__name__ for model in DELEGATION_MODELS}
    assert names == {
        "DecisionType",
        "ResponseTime",
        "Heartbeat",
        "AuthorityLimit",
        "Delegation",
        "UsageCounter",
        "Decision",
        "Escalation",
        "EscalationStep",
        "SplitFlag",
    }


@pytest.mark.parametrize("model", DELEGATION_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_load(admin_web, everything, model):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model.__name__} to show"

    listing = admin_web.get(url(model, "changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 1

    assert admin_web.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", [DecisionType, ResponseTime, AuthorityLimit], ids=lambda m: m.__name__)
def test_add_page_loads_where_operators_may_add(admin_web, model):
    assert admin_web.get(url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", [Decision, Escalation, AuthorityLimit, Delegation], ids=lambda m: m.__name__)
def test_busy_changelists_do_not_grow_in_queries(admin_web, everything, submit, model, django_assert_max_num_queries):
    for amount in ("60.00", "70.00", "160.00", "170.00"):
        submit(amount)
    with django_assert_max_num_queries(12):
        response = admin_web.get(url(model, "changelist"))
    assert response.status_code == 200


def test_escalation_page_shows_its_path(admin_web, submit, org):
    escalation = submit("150.00").escalation
    html = admin_web.get(url(Escalation, "change", escalation.pk)).content.decode()
    step = EscalationStep.objects.get(escalation=escalation)
    assert step.assigned_to == org.bob
    inline = html[html.index('id="steps-group"') :]
    assert "Nearest person above whose authority covers it" in inline and str(org.bob) in inline
    assert 'name="steps-0-reason"' not in inline  # shown, not editable


class TestDecisionsAndEscalationsChangeOnlyThroughServices:
    def test_no_add_change_or_delete_of_decisions(self, admin_web, submit):
        decision = submit("50.00")
        assert admin_web.get(url(Decision, "add")).status_code == 403
        response = admin_web.post(url(Decision, "change", decision.pk), {"status": "rejected", "amount": "1.00"})
        assert response.status_code == 403
        assert admin_web.post(url(Decision, "delete", decision.pk), {"post": "yes"}).status_code == 403
        decision.refresh_from_db()
        assert decision.status == Decision.Status.APPROVED and decision.amount == D("50.00")

    def test_no_add_change_or_delete_of_escalations(self, admin_web, submit):
        escalation = submit("150.00").escalation
        assert admin_web.get(url(Escalation, "add")).status_code == 403
        response = admin_web.post(url(Escalation, "change", escalation.pk), {"status": "approved"})
        assert response.status_code == 403
        assert admin_web.post(url(Escalation, "delete", escalation.pk), {"post": "yes"}).status_code == 403
        escalation.refresh_from_db()
        assert escalation.status == Escalation.Status.ASSIGNED

    def test_usage_counters_are_read_only(self, admin_web, submit):
        submit("50.00")
        counter = UsageCounter.objects.order_by("key").first()
        response = admin_web.post(url(UsageCounter, "change", counter.pk), {"key": counter.key, "amount": "0.00"})
        assert response.status_code == 403
        counter.refresh_from_db()
        assert counter.amount == D("50.00")


class TestLimits:
    @pytest.fixture
    def agent_refund(self, org):
        return AuthorityLimit.objects.get(role=org.alice.role, decision_type=org.refund)

    @staticmethod
    def form(limit=None, **values):
        data = {
            "per_decision": "100.00",
            "per_day": "300.00",
            "per_month": "2000.00",
            "per_customer_month": "200.00",
            "starts_at_0": "",
            "starts_at_1": "",
            "ends_at_0": "",
            "ends_at_1": "",
            "change_reason": "",
        }
        return data | values

    def test_changing_a_role_default_is_audited_with_before_after_and_reason(self, admin_web, org, agent_refund):
        response = admin_web.post(
            url(AuthorityLimit, "change", agent_refund.pk),
            self.form(per_decision="150.00", per_customer_month="", change_reason="Peak season"),
        )
        assert response.status_code == 302
        agent_refund.refresh_from_db()
        assert agent_refund.per_decision == D("150.00") and agent_refund.per_customer_month is None
        record = AuditRecord.objects.get(action="limit.changed", target_id=str(agent_refund.pk))
        assert record.before["per_decision"] == "100.00" and record.after["per_decision"] == "150.00"
        assert record.before["per_customer_month"] == "200.00" and record.after["per_customer_month"] is None
        assert record.after["role"] == "agent" and record.after["decision_type"] == "refund"
        assert record.reason == "by admin admin: Peak season"
        assert record.actor is None and record.target_type == "delegation.authoritylimit"
        assert agent_refund.reason == "by admin admin: Peak season"

    def test_a_change_without_a_reason_changes_nothing(self, admin_web, agent_refund):
        response = admin_web.post(url(AuthorityLimit, "change", agent_refund.pk), self.form(per_decision="150.00"))
        assert response.status_code == 200
        assert "change_reason" in response.context["adminform"].form.errors
        agent_refund.refresh_from_db()
        assert agent_refund.per_decision == D("100.00")
        assert not AuditRecord.objects.filter(action__startswith="limit.").exists()

    def test_a_negative_cap_is_refused(self, admin_web, agent_refund):
        response = admin_web.post(
            url(AuthorityLimit, "change", agent_refund.pk), self.form(per_day="-1.00", change_reason="Typo")
        )
        assert response.status_code == 200
        assert "per_day" in response.context["adminform"].form.errors
        agent_refund.refresh_from_db()
        assert agent_refund.per_day == D("300.00")

    def test_whose_limit_it_is_cannot_be_changed(self, admin_web, org, agent_refund):
        data = self.form(change_reason="Move it", role=org.carol.role_id, decision_type=org.goodwill.pk)
        assert admin_web.post(url(AuthorityLimit, "change", agent_refund.pk), data).status_code == 302
        agent_refund.refresh_from_db()
        assert agent_refund.role == org.alice.role and agent_refund.decision_type == org.refund

    def test_adding_a_personal_limit_is_audited_with_the_employee_concerned(self, admin_web, org):
        response = admin_web.post(
            url(AuthorityLimit, "add"),
            self.form(
                decision_type=org.refund.pk,
                role="",
                employee=org.alice.pk,
                per_decision="180.00",
                change_reason="Trusted",
            ),
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        limit = AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund)
        assert limit.per_decision == D("180.00")
        record = AuditRecord.objects.get(action="limit.created", target_id=str(limit.pk))
        assert record.before is None and record.after["employee"] == "alice" and record.subject == org.alice

    def test_a_limit_is_for_a_role_or_an_employee(self, admin_web, org):
        count = AuthorityLimit.objects.count()
        both = self.form(decision_type=org.refund.pk, role=org.alice.role_id, employee=org.alice.pk, change_reason="x")
        neither = self.form(decision_type=org.refund.pk, role="", employee="", change_reason="x")
        for data in (both, neither):
            response = admin_web.post(url(AuthorityLimit, "add"), data)
            assert response.status_code == 200
            assert "role" in response.context["adminform"].form.errors
        assert AuthorityLimit.objects.count() == count

    def test_a_second_limit_for_the_same_holder_and_type_is_refused(self, admin_web, org):
        AuthorityLimit.objects.create(employee=org.alice, decision_type=org.refund, per_decision=D("180.00"))
        count = AuthorityLimit.objects.count()
        cases = [
            ("role", self.form(decision_type=org.refund.pk, role=org.alice.role_id, employee="", change_reason="x")),
            ("employee", self.form(decision_type=org.refund.pk, role="", employee=org.alice.pk, change_reason="x")),
        ]
        for field, data in cases:
            response = admin_web.post(url(AuthorityLimit, "add"), data)
            assert response.status_code == 200
            assert field in response.context["adminform"].form.errors
        assert AuthorityLimit.objects.count() == count

    def test_a_temporary_personal_limit_must_end_after_it_starts(self, admin_web, org):
        window = {"starts_at_0": "2026-12-01", "starts_at_1": "09:00:00", "ends_at_0": "2026-11-30"}
        data = self.form(decision_type=org.refund.pk, role="", employee=org.alice.pk, change_reason="x")
        response = admin_web.post(url(AuthorityLimit, "add"), data | window | {"ends_at_1": "09:00:00"})
        assert response.status_code == 200
        assert "ends_at" in response.context["adminform"].form.errors
        role_window = self.form(decision_type=org.refund.pk, role=org.erin.role_id, employee="", change_reason="x")
        response = admin_web.post(url(AuthorityLimit, "add"), role_window | window | {"ends_at_0": ""})
        assert response.context["adminform"].form.errors["starts_at"] == [
            "Only a personal limit can run for a window; leave the dates empty."
        ]
        assert not AuthorityLimit.objects.filter(employee=org.alice).exists()

    def test_deleting_a_limit_is_audited(self, admin_web, org):
        limit = AuthorityLimit.objects.create(employee=org.alice, decision_type=org.refund, per_decision=D("180.00"))
        response = admin_web.post(url(AuthorityLimit, "delete", limit.pk), {"post": "yes"})
        assert response.status_code == 302
        assert not AuthorityLimit.objects.filter(pk=limit.pk).exists()
        record = AuditRecord.objects.get(action="limit.deleted", target_id=str(limit.pk))
        assert record.before["per_decision"] == "180.00" and record.after is None
        assert record.subject == org.alice and record.reason == "by admin admin: deleted in the admin"

    def test_bulk_deleting_limits_audits_each(self, admin_web, org):
        ids = [
            AuthorityLimit.objects.create(employee=person, decision_type=org.refund, per_decision=D("120.00")).pk
            for person in (org.alice, org.erin)
        ]
        response = admin_web.post(
            url(AuthorityLimit, "changelist"), {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
        )
        assert response.status_code == 302
        assert not AuthorityLimit.objects.filter(pk__in=ids).exists()
        assert AuditRecord.objects.filter(action="limit.deleted").count() == 2

    def test_an_employee_with_admin_access_cannot_change_their_own_limits(self, client, org):
        carol = org.carol.user
        carol.is_staff = carol.is_superuser = True
        carol.save()
        client.force_login(carol)
        manager_refund = AuthorityLimit.objects.get(role=org.carol.role, decision_type=org.refund)
        response = client.post(
            url(AuthorityLimit, "change", manager_refund.pk), self.form(per_decision="9999.00", change_reason="Me")
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.non_field_errors()
        own = self.form(decision_type=org.refund.pk, role="", employee=org.carol.pk, change_reason="Me")
        assert client.post(url(AuthorityLimit, "add"), own).status_code == 200
        manager_refund.refresh_from_db()
        assert manager_refund.per_decision == D("2000.00")
        assert not AuthorityLimit.objects.filter(employee=org.carol).exists()
        # Someone else's limit: allowed, and carol is the recorded actor.
        agent_refund = AuthorityLimit.objects.get(role=org.alice.role, decision_type=org.refund)
        response = client.post(
            url(AuthorityLimit, "change", agent_refund.pk), self.form(per_decision="120.00", change_reason="Coaching")
        )
        assert response.status_code == 302
        assert AuditRecord.objects.get(action="limit.changed").actor == org.carol


def test_decision_types_are_editable(admin_web, org):
    response = admin_web.post(
        url(DecisionType, "change", org.refund.pk),
        {
            "code": "refund",
            # The name and description in each language (English is required: it is the fallback).
            "name_en": "Refund",
            "name_pl": "Zwrot",
            "description_en": "Money back",
            "response_hours": "2",
            "is_active": "on",
            "response_times-TOTAL_FORMS": "0",
            "response_times-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    org.refund.refresh_from_db()
    assert org.refund.response_hours == 2 and org.refund.description == "Money back"
    assert org.refund.name_pl == "Zwrot"
    assert admin_web.post(url(DecisionType, "delete", org.refund.pk), {"post": "yes"}).status_code == 403


class TestDelegations:
    def end_now(self, client, *delegations):
        return client.post(
            url(Delegation, "changelist"), {"action": "end_now", "_selected_action": [d.pk for d in delegations]}
        )

    def test_ending_a_delegation_now_is_audited_and_both_are_told(self, admin_web, org, delegation):
        assert self.end_now(admin_web, delegation).status_code == 302
        delegation.refresh_from_db()
        assert delegation.ended_at is not None and delegation.ended_at <= timezone.now()
        assert not Delegation.objects.active_at(timezone.now()).filter(pk=delegation.pk).exists()
        record = AuditRecord.objects.get(action="delegation.ended", target_id=str(delegation.pk))
        assert record.before["ended_at"] is None and record.after["ended_at"]
        assert record.reason == "by admin admin: ended in the admin" and record.subject == org.carol
        assert set(Notification.objects.filter(key=f"delegation:{delegation.pk}:ended").values_list(
            "recipient__user__username", flat=True
        )) == {"bob", "carol"}  # fmt: skip

    def test_ending_one_already_over_changes_nothing(self, admin_web, delegation):
        self.end_now(admin_web, delegation)
        delegation.refresh_from_db()
        ended_at = delegation.ended_at
        response = self.end_now(admin_web, delegation)
        assert response.status_code == 302
        delegation.refresh_from_db()
        assert delegation.ended_at == ended_at
        assert AuditRecord.objects.filter(action="delegation.ended").count() == 1

    def test_an_employee_operator_ends_only_what_the_service_allows(self, client, org, delegation):
        for person in (org.hank, org.carol):
            person.user.is_staff = person.user.is_superuser = True
            person.user.save()
        client.force_login(org.hank.user)  # not above carol, the delegator
        response = self.end_now(client, delegation)
        assert response.status_code == 302
        delegation.refresh_from_db()
        assert delegation.ended_at is None
        assert not AuditRecord.objects.filter(action="delegation.ended").exists()
        client.force_login(org.carol.user)
        self.end_now(client, delegation)
        delegation.refresh_from_db()
        assert delegation.ended_by == org.carol
        assert AuditRecord.objects.get(action="delegation.ended").actor == org.carol

    def test_listing_by_state(self, admin_web, org, delegation):
        now = timezone.now()
        ended = Delegation.objects.create(
            delegator=org.hank,
            delegate=org.gina,
            starts_at=now - timedelta(days=5),
            ends_at=now - timedelta(days=1),
            reason="Training",
            created_by=org.hank,
        )
        listing = url(Delegation, "changelist")
        assert list(admin_web.get(listing, {"state": "active"}).context["cl"].result_list) == [delegation]
        assert list(admin_web.get(listing, {"state": "ended"}).context["cl"].result_list) == [ended]

    def test_delegations_are_not_edited_in_the_admin(self, admin_web, org, delegation):
        assert admin_web.get(url(Delegation, "add")).status_code == 403
        response = admin_web.post(url(Delegation, "change", delegation.pk), {"reason": "forged"})
        assert response.status_code == 403
        delegation.refresh_from_db()
        assert delegation.reason == "Holiday"


class TestStuckWork:
    @pytest.fixture
    def escalations(self, submit, settings):
        settings.EMPOWER_ROUTING_GRACE_SECONDS = 120
        now = timezone.now()

        def escalation(amount: str, **changes) -> Escalation:
            escalation = submit(amount, route=changes.get("status") != Escalation.Status.ROUTING).escalation
            Escalation.objects.filter(pk=escalation.pk).update(**changes)
            return escalation

        return {
            "routing_late": escalation(
                "150.00", status=Escalation.Status.ROUTING, routing_since=now - timedelta(minutes=5)
            ),
            "routing_fresh": escalation(
                "151.00", status=Escalation.Status.ROUTING, routing_since=now - timedelta(seconds=30)
            ),
            "overdue": escalation("152.00", due_at=now - timedelta(minutes=1)),
            "on_time": escalation("153.00", due_at=now + timedelta(hours=2)),
            "unroutable": escalation("154.00", status=Escalation.Status.UNROUTABLE, assigned_to=None, due_at=None),
            "approved_late": escalation("155.00", status=Escalation.Status.APPROVED, due_at=now - timedelta(hours=1)),
        }

    @pytest.mark.parametrize(
        ("stuck", "expected"),
        [
            ("routing", {"routing_late"}),
            ("overdue", {"overdue"}),
            ("unroutable", {"unroutable"}),
            ("any", {"routing_late", "overdue", "unroutable"}),
        ],
    )
    def test_filters_select_the_right_escalations(self, admin_web, escalations, stuck, expected):
        response = admin_web.get(url(Escalation, "changelist"), {"stuck": stuck})
        assert response.status_code == 200
        assert "Waiting for routing &gt; 2 minutes" in response.content.decode()
        names = {name for name, e in escalations.items() if e in response.context["cl"].result_list}
        assert names == expected

    def test_route_now_routes_what_waits(self, admin_web, org, escalations):
        late = escalations["routing_late"]
        response = admin_web.post(
            url(Escalation, "changelist"),
            {"action": "route_now", "_selected_action": [late.pk, escalations["on_time"].pk]},
        )
        assert response.status_code == 302
        late.refresh_from_db()
        assert late.status == Escalation.Status.ASSIGNED and late.assigned_to == org.bob
        assert escalations["on_time"].steps.count() == 1  # untouched

    def test_review_now_moves_the_overdue_one_up(self, admin_web, org, escalations, django_capture_on_commit_callbacks):
        overdue, on_time = escalations["overdue"], escalations["on_time"]
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_web.post(
                url(Escalation, "changelist"), {"action": "review_now", "_selected_action": [overdue.pk, on_time.pk]}
            )
        assert response.status_code == 302
        overdue.refresh_from_db()
        on_time.refresh_from_db()
        assert overdue.level == 2 and overdue.assigned_to == org.carol
        assert on_time.level == 1 and on_time.assigned_to == org.bob


# An employee with admin access is held to the granting rules; an operator is not, and everyone is told ---


def _admin_access(client, employee):
    employee.user.is_staff = employee.user.is_superuser = True
    employee.user.save()
    client.force_login(employee.user)
    return client


def _personal(org, employee, **values):
    return TestLimits.form(
        decision_type=org.refund.pk, role="", employee=employee.pk, change_reason="Coaching", **values
    )


def test_an_employee_in_the_admin_sets_a_limit_for_someone_below_and_they_are_told(client, org):
    web = _admin_access(client, org.bob)

    response = web.post(url(AuthorityLimit, "add"), _personal(org, org.alice, per_decision="180.00"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    limit = AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund)
    assert limit.per_decision == D("180.00") and limit.set_by == org.bob
    assert AuditRecord.objects.get(action="limit.created").actor == org.bob
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").count() == 1


@pytest.mark.parametrize(
    ("actor", "employee", "values", "field", "message"),
    [
        ("bob", "gina", {}, None, "Only someone above Gina in the chain of command may change their limits."),
        ("bob", "bob", {}, None, "Nobody changes their own limits."),
        ("erin", "alice", {}, None, "Only someone above Alice in the chain of command may change their limits."),
        ("bob", "alice", {"per_decision": "500.01"}, "per_decision", "At most €500.00: you cannot grant more"),
        ("carol", "alice", {"per_day": ""}, "per_day", "At most €10,000.00: you cannot grant more"),
    ],
)
def test_an_employee_in_the_admin_is_refused_what_the_granting_rules_refuse(
    client, org, actor, employee, values, field, message
):
    web = _admin_access(client, getattr(org, actor))

    response = web.post(url(AuthorityLimit, "add"), _personal(org, getattr(org, employee), **values))

    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = form.errors.get(field, []) if field else form.non_field_errors()
    assert any(message in str(error) for error in errors), form.errors
    assert not AuthorityLimit.objects.filter(employee__isnull=False).exists()
    assert not AuditRecord.objects.filter(action__startswith="limit.").exists()
    assert not Notification.objects.filter(url="/authority/me/").exists()


@pytest.mark.parametrize(
    ("actor", "role", "values", "message"),
    [
        ("bob", "team_lead", {}, "Nobody changes their own limits."),
        ("bob", "manager", {}, "Only someone of a higher role may change this role's limits."),
        ("carol", "agent", {"per_decision": "2000.01"}, "At most €2,000.00: you cannot grant more"),
    ],
)
def test_an_employee_in_the_admin_changes_only_the_role_defaults_the_rules_allow(
    client, org, actor, role, values, message
):
    web = _admin_access(client, getattr(org, actor))
    limit = AuthorityLimit.objects.get(role__code=role, decision_type=org.refund)
    before = limit.per_decision
    data = TestLimits.form(per_decision=f"{before or 1:.2f}", change_reason="Review") | values

    response = web.post(url(AuthorityLimit, "change", limit.pk), data)

    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    limit.refresh_from_db()
    assert limit.per_decision == before
    assert not AuditRecord.objects.filter(action__startswith="limit.").exists()


def test_an_employee_in_the_admin_removes_only_what_they_may_change(client, org):
    gina_limit = AuthorityLimit.objects.create(employee=org.gina, decision_type=org.refund, per_decision=D("90.00"))
    web = _admin_access(client, org.bob)  # gina is hank's, not bob's

    response = web.post(url(AuthorityLimit, "delete", gina_limit.pk), {"post": "yes"}, follow=True)

    assert response.status_code == 200
    assert "Only someone above Gina" in response.content.decode()
    assert AuthorityLimit.objects.filter(pk=gina_limit.pk).exists()
    assert not AuditRecord.objects.filter(action="limit.deleted").exists()


def test_an_operator_may_set_any_limit_and_the_employee_is_told(admin_web, org):
    response = admin_web.post(url(AuthorityLimit, "add"), _personal(org, org.alice, per_decision="5000.00"))

    assert response.status_code == 302
    record = AuditRecord.objects.get(action="limit.created")
    assert record.actor is None and record.reason == "by admin admin: Coaching"
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").exists()


def test_a_role_default_changed_in_the_admin_tells_everyone_it_applies_to(admin_web, org):
    AuthorityLimit.objects.create(employee=org.frank, decision_type=org.refund, per_decision=D("90.00"))
    agent_refund = AuthorityLimit.objects.get(role=org.alice.role, decision_type=org.refund)

    response = admin_web.post(
        url(AuthorityLimit, "change", agent_refund.pk), TestLimits.form(per_decision="120.00", change_reason="Review")
    )

    assert response.status_code == 302
    told = set(Notification.objects.filter(url="/authority/me/").values_list("recipient__user__username", flat=True))
    assert told == {"alice", "erin", "gina"}


def test_a_limit_lowered_in_the_admin_moves_up_what_its_holder_no_longer_covers(
    admin_web, org, submit, django_capture_on_commit_callbacks
):
    escalation = submit("150.00").escalation
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.bob

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(url(AuthorityLimit, "add"), _personal(org, org.bob, per_decision="100.00"))

    assert response.status_code == 302
    escalation.refresh_from_db()
    assert escalation.level == 2 and escalation.assigned_to == org.carol


def test_a_limit_removed_in_the_admin_tells_the_employee(admin_web, org):
    limit = AuthorityLimit.objects.create(employee=org.alice, decision_type=org.refund, per_decision=D("180.00"))

    admin_web.post(url(AuthorityLimit, "delete", limit.pk), {"post": "yes"})

    assert not AuthorityLimit.objects.filter(pk=limit.pk).exists()
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").exists()


def test_a_temporary_limit_in_the_admin_needs_an_end_and_may_not_overlap(admin_web, org):
    start = timezone.localtime() + timedelta(days=1)
    day, hour = start.strftime("%Y-%m-%d"), start.strftime("%H:%M:%S")
    later = (start + timedelta(days=1)).strftime("%Y-%m-%d")

    response = admin_web.post(url(AuthorityLimit, "add"), _personal(org, org.alice, starts_at_0=day, starts_at_1=hour))

    assert response.status_code == 200
    assert "ends_at" in response.context["adminform"].form.errors
    window = _personal(org, org.alice, starts_at_0=day, starts_at_1=hour, ends_at_0=later, ends_at_1=hour)
    assert admin_web.post(url(AuthorityLimit, "add"), window).status_code == 302
    response = admin_web.post(url(AuthorityLimit, "add"), window)
    assert response.status_code == 200
    assert "already has a temporary limit" in str(response.context["adminform"].form.non_field_errors())
    assert AuthorityLimit.objects.filter(employee=org.alice).count() == 1


def test_the_decision_page_shows_the_makers_and_the_approvers_limits(admin_web, org, submit):
    from delegation.services import escalation_approve

    decision = submit("150.00")
    escalation_approve(escalation_id=decision.escalation.pk, approver=org.bob, note="Fine")

    html = admin_web.get(url(Decision, "change", decision.pk)).content.decode()

    assert "Limits that judged it" in html and "Limits that approved it" in html
    assert (
        "&quot;per_decision&quot;: &quot;100.00&quot;" in html
        and "&quot;per_decision&quot;: &quot;500.00&quot;" in html
    )


def _moment(at) -> dict:
    local = timezone.localtime(at)
    return {"date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M:%S")}


def test_an_administrator_cannot_backdate_a_temporary_limit(admin_web, org):
    """The admin applies the page's and the API's window rules: a window that started two days ago
    and ended yesterday would rewrite what "what could alice decide at T" reads; it is refused."""
    start, end = _moment(timezone.now() - timedelta(days=2)), _moment(timezone.now() - timedelta(days=1))
    window = _personal(
        org,
        org.alice,
        starts_at_0=start["date"],
        starts_at_1=start["time"],
        ends_at_0=end["date"],
        ends_at_1=end["time"],
    )

    response = admin_web.post(url(AuthorityLimit, "add"), window)

    assert response.status_code == 200
    assert "ends_at" in response.context["adminform"].form.errors
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()
    assert not AuditRecord.objects.filter(action="limit.created").exists()


def test_a_window_set_in_the_admin_to_start_in_the_past_starts_now(admin_web, org):
    before = timezone.now()
    start, end = _moment(before - timedelta(days=2)), _moment(before + timedelta(days=1))
    window = _personal(
        org,
        org.alice,
        starts_at_0=start["date"],
        starts_at_1=start["time"],
        ends_at_0=end["date"],
        ends_at_1=end["time"],
    )

    assert admin_web.post(url(AuthorityLimit, "add"), window).status_code == 302

    saved = AuthorityLimit.objects.get(employee=org.alice)
    assert saved.starts_at >= before


def test_changing_a_decision_type_in_the_admin_is_audited(admin_web, org):
    response = admin_web.post(
        url(DecisionType, "change", org.refund.pk),
        {
            "code": "refund",
            "name_en": "Refund",
            "description_en": "",
            "response_hours": "2",
            "is_active": "on",
            "change_reason": "Customers wait too long",
            "response_times-TOTAL_FORMS": "1",
            "response_times-INITIAL_FORMS": "0",
            "response_times-0-level": "2",
            "response_times-0-hours": "8",
        },
    )

    assert response.status_code == 302
    record = AuditRecord.objects.get(action="decision_type.changed")
    assert record.target_id == str(org.refund.pk) and record.actor is None
    assert record.before["response_hours"] == org.refund.response_hours and record.after["response_hours"] == 2
    assert record.before["response_times"] == {} and record.after["response_times"] == {"2": 8}
    assert "Customers wait too long" in record.reason and "admin" in record.reason


def test_changing_a_response_time_in_the_admin_is_audited(admin_web, org):
    response = admin_web.post(url(ResponseTime, "add"), {"decision_type": org.refund.pk, "level": "1", "hours": "3"})

    assert response.status_code == 302
    record = AuditRecord.objects.get(action="decision_type.changed")
    assert record.before["response_times"] == {} and record.after["response_times"] == {"1": 3}
    response_time = ResponseTime.objects.get(decision_type=org.refund, level=1)
    admin_web.post(url(ResponseTime, "delete", response_time.pk), {"post": "yes"})
    assert not ResponseTime.objects.filter(pk=response_time.pk).exists()
    assert AuditRecord.objects.filter(action="decision_type.changed").count() == 2


def test_a_decision_type_changed_in_the_list_is_audited(admin_web, org):
    types = list(DecisionType.objects.order_by("code"))
    data = {"form-TOTAL_FORMS": str(len(types)), "form-INITIAL_FORMS": str(len(types)), "_save": "Save"}
    for i, decision_type in enumerate(types):
        data[f"form-{i}-id"] = str(decision_type.pk)
        data[f"form-{i}-response_hours"] = "6" if decision_type == org.refund else str(decision_type.response_hours)
        if decision_type.is_active:
            data[f"form-{i}-is_active"] = "on"

    assert admin_web.post(url(DecisionType, "changelist"), data).status_code == 302

    record = AuditRecord.objects.get(action="decision_type.changed")
    assert record.target_id == str(org.refund.pk) and record.after["response_hours"] == 6
