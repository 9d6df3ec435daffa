"""The organization's back office: every page loads, the audit trail is untouchable, people are audited."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from delegation.services import decision_submit
from empower.models import AuditRecord, Case, Customer, Employee, Notification, OutgoingEmail, Role, Team
from empower.tokens import api_token_issue

EMPOWER_MODELS = [model for model in admin.site._registry if model._meta.app_label == "empower"]


@pytest.fixture
def admin_web(org, client):
    """A browser session of the demo's `admin` superuser, who is not an employee."""
    client.force_login(get_user_model().objects.get(username="admin"))
    return client


@pytest.fixture
def escalated_case(org, make_case, django_capture_on_commit_callbacks):
    """A case with an escalated refund, routed to bob: audit records and a notification exist."""
    case = make_case(org.alice, email="jo.kettle@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        decision_submit(employee=org.alice, case=case, decision_type=org.refund, amount="150.00", rationale="Broken")
    api_token_issue(user=org.alice.user, name="alice's script")
    return case


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_organization_model_is_registered():
    names = {model.__name__ for model in EMPOWER_MODELS}
    assert names == {
        "Team",
        "Role",
        "Employee",
        "Customer",
        "Case",
        "AuditRecord",
        "Notification",
        "OutgoingEmail",
        "ApiToken",
    }


@pytest.mark.parametrize("model", EMPOWER_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_load(admin_web, escalated_case, model):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model.__name__} to show"

    listing = admin_web.get(url(model, "changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 1

    page = admin_web.get(url(model, "change", obj.pk))
    assert page.status_code == 200


@pytest.mark.parametrize("model", [Team, Role, Employee, Customer], ids=lambda m: m.__name__)
def test_add_page_loads_where_operators_may_add(admin_web, model):
    assert admin_web.get(url(model, "add")).status_code == 200


def test_admin_index_lists_both_apps(admin_web):
    html = admin_web.get(reverse("admin:index")).content.decode()
    assert url(Employee, "changelist") in html
    assert reverse("admin:delegation_escalation_changelist") in html


def test_employee_list_shows_username_role_team_and_manager(admin_web):
    response = admin_web.get(url(Employee, "changelist"), {"q": "alice"})
    assert response.status_code == 200
    [alice] = response.context["cl"].result_list
    row = response.content.decode()
    assert alice.username == "alice"
    for text in ("alice", "Agent", "Customer Care", "bob"):
        assert text in row


def test_employee_list_has_a_constant_number_of_queries(admin_web, org, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = admin_web.get(url(Employee, "changelist"))
    assert response.context["cl"].result_count == 8


def test_adding_an_employee_creates_the_login_and_audits_it(admin_web, org):
    response = admin_web.post(
        url(Employee, "add"),
        {
            "username": "ivy",
            "first_name": "Ivy",
            "last_name": "Agent",
            "email": "ivy@example.com",
            "password1": "a-long-secret-42",
            "password2": "a-long-secret-42",
            "role": org.alice.role_id,
            "team": org.alice.team_id,
            "parent": org.bob.pk,
            "language": "pl",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    ivy = Employee.objects.select_related("user").get(user__username="ivy")
    assert ivy.manager == org.bob and ivy.language == "pl"
    assert ivy.user.check_password("a-long-secret-42") and ivy.user.email == "ivy@example.com"
    record = AuditRecord.objects.get(action="employee.created", target_id=str(ivy.pk))
    assert record.after == {"role": "agent", "team": "Customer Care", "manager": "bob", "language": "pl"}
    assert record.actor is None and record.reason == "by admin admin"


def test_adding_an_employee_with_a_taken_username_changes_nothing(admin_web, org):
    users = get_user_model().objects.count()
    response = admin_web.post(
        url(Employee, "add"),
        {
            "username": "Alice",
            "password1": "a-long-secret-42",
            "password2": "a-long-secret-42",
            "role": org.alice.role_id,
            "team": org.alice.team_id,
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    assert get_user_model().objects.count() == users


def test_changing_a_manager_is_audited_with_before_and_after(admin_web, org):
    response = admin_web.post(
        url(Employee, "change", org.gina.pk),
        {"role": org.gina.role_id, "team": org.gina.team_id, "parent": org.bob.pk, "language": "en"},
    )
    assert response.status_code == 302
    org.gina.refresh_from_db()
    assert org.gina.manager == org.bob
    record = AuditRecord.objects.get(action="employee.changed", target_id=str(org.gina.pk))
    assert record.before["manager"] == "hank" and record.after["manager"] == "bob"
    assert record.subject == org.gina


def test_a_manager_cannot_be_placed_below_their_own_report(admin_web, org):
    response = admin_web.post(
        url(Employee, "change", org.carol.pk),
        {"role": org.carol.role_id, "team": org.carol.team_id, "parent": org.alice.pk, "language": "en"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    org.carol.refresh_from_db()
    assert org.carol.manager == org.dan
    assert not AuditRecord.objects.filter(action="employee.changed").exists()


def test_employees_cannot_be_deleted_in_the_admin(admin_web, org):
    response = admin_web.post(url(Employee, "delete", org.frank.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Employee.objects.filter(pk=org.frank.pk).exists()


def test_case_search_finds_the_customer_by_email(admin_web, escalated_case, make_case):
    make_case(email="someone.else@example.com")
    response = admin_web.get(url(Case, "changelist"), {"q": "jo.kettle"})
    assert list(response.context["cl"].result_list) == [escalated_case]


def test_cases_are_opened_and_resolved_in_the_app_not_the_admin(admin_web, escalated_case):
    assert admin_web.get(url(Case, "add")).status_code == 403
    response = admin_web.post(
        url(Case, "change", escalated_case.pk),
        {
            "customer": escalated_case.customer_id,
            "team": escalated_case.team_id,
            "assigned_to": escalated_case.assigned_to_id,
            "subject": "Broken kettle, lid too",
            "description": "",
            "status": "resolved",
        },
    )
    assert response.status_code == 302
    escalated_case.refresh_from_db()
    assert escalated_case.subject == "Broken kettle, lid too"
    assert escalated_case.status == Case.Status.OPEN


class TestAuditTrailIsReadOnly:
    @pytest.fixture
    def record(self, escalated_case):
        return AuditRecord.objects.filter(action="decision.escalated").get()

    def test_the_record_shows_before_and_after_pretty(self, admin_web, record):
        response = admin_web.get(url(AuditRecord, "change", record.pk))
        assert response.status_code == 200
        html = response.content.decode()
        assert '<pre class="empower-json">{\n  &quot;amount&quot;: &quot;150.00&quot;,\n  &quot;case&quot;' in html
        assert "&quot;status&quot;: &quot;escalated&quot;" in html
        assert 'name="_save"' not in html

    def test_changing_is_forbidden_even_for_a_superuser(self, admin_web, record):
        response = admin_web.post(url(AuditRecord, "change", record.pk), {"action": "forged", "reason": "oops"})
        assert response.status_code == 403
        record.refresh_from_db()
        assert record.action == "decision.escalated" and record.reason == "Broken"

    def test_deleting_is_forbidden_even_for_a_superuser(self, admin_web, record):
        assert admin_web.get(url(AuditRecord, "delete", record.pk)).status_code == 403
        assert admin_web.post(url(AuditRecord, "delete", record.pk), {"post": "yes"}).status_code == 403
        assert AuditRecord.objects.filter(pk=record.pk).exists()

    def test_nothing_can_be_added_or_bulk_deleted(self, admin_web, record):
        assert admin_web.get(url(AuditRecord, "add")).status_code == 403
        count = AuditRecord.objects.count()
        response = admin_web.post(
            url(AuditRecord, "changelist"),
            {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
        assert AuditRecord.objects.count() == count
        assert "delete_selected" not in admin_web.get(url(AuditRecord, "changelist")).content.decode()

    def test_filters_and_search(self, admin_web, org, record):
        listing = url(AuditRecord, "changelist")
        by_action = admin_web.get(listing, {"action": "decision.escalated"}).context["cl"].result_list
        assert list(by_action) == [record]
        by_actor = admin_web.get(listing, {"actor__id__exact": org.alice.pk}).context["cl"].result_list
        assert {r.action for r in by_actor} == {"case.opened", "decision.escalated"}
        by_type = admin_web.get(listing, {"target_type": "empower.case"}).context["cl"].result_list
        assert {r.action for r in by_type} == {"case.opened"}
        searched = admin_web.get(listing, {"q": "alice"}).context["cl"].result_list
        assert record in list(searched)


def test_notifications_are_read_only(admin_web, escalated_case, org):
    notification = Notification.objects.get(recipient=org.bob)
    response = admin_web.post(url(Notification, "change", notification.pk), {"message": "forged"})
    assert response.status_code == 403
    notification.refresh_from_db()
    assert "asks you to decide" in notification.message
    unread = admin_web.get(url(Notification, "changelist"), {"read": "no"}).context["cl"].result_list
    assert list(unread) == [notification]


def test_the_outbox_is_read_only_and_keeps_its_rows(admin_web, escalated_case, org):
    email = OutgoingEmail.objects.get(to="bob@example.com")
    assert admin_web.get(url(OutgoingEmail, "add")).status_code == 403
    response = admin_web.post(url(OutgoingEmail, "change", email.pk), {"to": "mallory@example.com"})
    assert response.status_code == 403
    # Deleting a row would let its event e-mail again.
    assert admin_web.post(url(OutgoingEmail, "delete", email.pk), {"post": "yes"}).status_code == 403
    email.refresh_from_db()
    assert email.to == "bob@example.com"
    page = admin_web.get(url(OutgoingEmail, "change", email.pk)).content.decode()
    assert email.body.splitlines()[0] in page
