"""Menus that fit the person (decided by `menu_for`), and guidance shown at the moment of deciding."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from delegation.models import DecisionType, Escalation
from delegation.selectors import guidance_for, menu_for, stand_in_candidates
from delegation.services import (
    decision_submit,
    decision_type_guidance_save,
    delegation_create,
    escalation_approve,
    escalation_reject,
)
from empower.errors import NotAllowed
from empower.models import AuditRecord

# --- menus ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "approvals", "people", "guidance"),
    [
        ("alice", False, False, False),  # an agent: none of the managers' menus
        ("bob", True, True, True),  # a team lead has people below him
        ("carol", True, True, True),
        ("dan", True, True, True),
    ],
)
def test_the_menu_follows_the_role(org, who, approvals, people, guidance):
    menu = menu_for(employee=getattr(org, who))
    assert (menu.approvals, menu.people, menu.guidance) == (approvals, people, guidance)


def test_a_stand_in_gets_the_inbox_of_whom_they_stand_in_for_and_loses_it_after(org):
    now = timezone.now()
    delegation = delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now,
        ends_at=now + timedelta(days=1),
        reason="Holiday",
    )
    menu = menu_for(employee=org.erin)
    assert menu.approvals and not menu.people and not menu.guidance
    assert [d.pk for d in menu.stand_in_for] == [delegation.pk]
    assert not menu_for(employee=org.frank).approvals
    erin = type(org.erin).objects.get(pk=org.erin.pk)  # a new request: nothing remembered
    assert menu_for(employee=erin, stand_in_for=[]).approvals is False


def test_an_agent_with_an_escalation_waiting_for_her_sees_the_inbox(org):
    assert menu_for(employee=org.alice, stand_in_for=[], waiting=1).approvals


def test_the_stand_in_candidates_are_everyone_active_but_oneself_and_searchable(org):
    usernames = [u for u, _ in stand_in_candidates(employee=org.bob)]
    assert "bob" not in usernames and {"alice", "erin", "carol", "hank"} <= set(usernames)
    org.frank.user.is_active = False
    org.frank.user.save()
    assert "frank" not in [u for u, _ in stand_in_candidates(employee=org.bob)]
    found = stand_in_candidates(employee=org.bob, q="retu")  # the Returns team
    assert sorted(u for u, _ in found) == ["gina", "hank"]
    assert found[0][1] == "Gina · Agent · Returns"


def test_agents_see_no_managers_links_and_managers_do(org, client):
    client.force_login(org.alice.user)
    page = client.get("/").content.decode()
    assert 'href="/authority/guidance/"' not in page and 'href="/authority/roles/"' not in page
    assert 'href="/authority/me/"' in page and 'href="/feedback/insights/"' not in page
    assert client.get("/authority/guidance/").status_code == 403
    client.force_login(org.carol.user)
    page = client.get("/").content.decode()
    assert 'href="/authority/guidance/"' in page and 'href="/authority/"' in page


# --- guidance ----------------------------------------------------------------------------------------


@pytest.fixture
def escalation(org, make_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount="150.00", rationale="x"
        )
    return Escalation.objects.get(decision=decision)


def notes(org, code="refund"):
    (g,) = guidance_for(decision_types=[org.types[code]])
    return [n.note for n in g.notes]


def test_a_note_shared_as_guidance_appears_for_its_type_only(org, escalation):
    escalation_approve(
        escalation_id=escalation.pk, approver=org.bob, note="Refund the postage too.", share_as_guidance=True
    )
    assert notes(org) == ["Refund the postage too."]
    assert notes(org, "goodwill_credit") == []
    record = AuditRecord.objects.get(action="escalation.approved", target_id=str(escalation.pk))
    assert record.after["share_as_guidance"] is True


def test_a_note_not_shared_stays_private(org, escalation, make_case, django_capture_on_commit_callbacks):
    escalation_reject(escalation_id=escalation.pk, approver=org.bob, note="Not for a scratch.")
    assert notes(org) == []
    with django_capture_on_commit_callbacks(execute=True):
        other = decision_submit(
            employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount="150.00", rationale="x"
        )
    escalation_reject(
        escalation_id=other.escalation.pk, approver=org.bob, note="Ask for a photo first.", share_as_guidance=True
    )
    assert notes(org) == ["Ask for a photo first."]


def test_sharing_through_the_api(org, api, escalation):
    response = api("bob").post(
        f"/api/v1/escalations/{escalation.pk}/reject/",
        {"note": "Ask for the receipt.", "share_as_guidance": True},
        format="json",
    )
    assert response.status_code == 200 and response.json()["share_as_guidance"] is True
    assert notes(org) == ["Ask for the receipt."]


def test_managers_edit_guidance_audited_and_agents_are_refused(org):
    seeded = org.refund.purpose
    decision_type_guidance_save(
        decision_type=org.refund, actor=org.carol, reason="Standards", purpose="Money back for a fault."
    )
    org.refund.refresh_from_db()
    assert org.refund.purpose == "Money back for a fault."
    record = AuditRecord.objects.get(action="decision_type.guidance_changed")
    assert record.before["purpose"] == seeded and record.after["purpose"] == "Money back for a fault."
    with pytest.raises(NotAllowed):
        decision_type_guidance_save(decision_type=org.refund, actor=org.alice, purpose="Anything goes")
    org.refund.refresh_from_db()
    assert org.refund.purpose == "Money back for a fault."


def test_the_guidance_is_beside_the_decision_form_on_the_case_page(org, client, make_case, escalation):
    decision_type_guidance_save(
        decision_type=org.refund, actor=org.carol, rationale_hint="Say what was broken and since when."
    )
    escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="Photos help.", share_as_guidance=True)
    client.force_login(org.alice.user)
    case = make_case(org.alice)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="guidance"' in page and "Say what was broken and since when." in page and "Photos help." in page
    assert "js/guidance.js" in page  # opens the chosen type's guidance (tests/e2e/test_screens_fit_the_person.py)


def test_the_managers_page_edits_guidance(org, client):
    client.force_login(org.carol.user)
    response = client.post(
        "/authority/guidance/refund/",
        {"purpose": "Money back.", "good_examples": "A broken kettle.", "rationale_hint": "What broke.", "reason": "x"},
    )
    assert response.status_code == 302
    org.refund.refresh_from_db()
    assert (org.refund.purpose, org.refund.good_examples) == ("Money back.", "A broken kettle.")
    client.force_login(org.alice.user)
    assert client.post("/authority/guidance/refund/", {"purpose": "Mine"}).status_code == 403


def test_only_the_latest_shared_notes_of_each_type_show(org, make_case, django_capture_on_commit_callbacks):
    def shared(type_, note, amount="150.00"):
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=org.alice, case=make_case(org.alice), decision_type=type_, amount=amount, rationale="x"
            )
        escalation_reject(escalation_id=decision.escalation.pk, approver=org.bob, note=note, share_as_guidance=True)

    for n in range(5):
        shared(org.refund, f"refund note {n}")
    shared(org.goodwill, "goodwill note", "50.00")  # within bob's goodwill authority
    assert notes(org) == ["refund note 4", "refund note 3", "refund note 2"]
    assert notes(org, "goodwill_credit") == ["goodwill note"]


# --- guidance in every language ----------------------------------------------------------------------


def test_guidance_is_read_in_the_readers_language_with_english_as_the_fallback(org):
    decision_type_guidance_save(
        decision_type=org.refund, actor=org.carol, language="en", purpose="Money back.", good_examples="A kettle."
    )
    decision_type_guidance_save(decision_type=org.refund, actor=org.carol, language="pl", purpose="Zwrot pieniędzy.")
    decision_type_guidance_save(decision_type=org.refund, actor=org.carol, language="pl", good_examples="")

    def read(language):
        with translation.override(language):
            (g,) = guidance_for(decision_types=[DecisionType.objects.get(pk=org.refund.pk)])
            return g.decision_type.purpose, g.decision_type.good_examples

    assert read("pl") == ("Zwrot pieniędzy.", "A kettle.")  # no Polish example: the English one
    assert read("en") == ("Money back.", "A kettle.")
    assert read("ru")[0] == org.refund.purpose_ru != "Money back."  # the seeded Russian
    DecisionType.objects.filter(pk=org.refund.pk).update(purpose_ru=None)  # none: the English
    assert read("ru")[0] == "Money back."
    record = AuditRecord.objects.filter(action="decision_type.guidance_changed").order_by("pk")[1]
    assert record.after["language"] == "pl" and record.after["purpose"] == "Zwrot pieniędzy."


def test_the_polish_guidance_is_on_the_case_page_of_a_polish_reader(org, client, make_case):
    decision_type_guidance_save(
        decision_type=org.refund, actor=org.carol, language="pl", rationale_hint="Co się zepsuło i kiedy."
    )
    decision_type_guidance_save(decision_type=org.goodwill, actor=org.carol, language="pl", rationale_hint="")
    decision_type_guidance_save(
        decision_type=org.goodwill, actor=org.carol, language="en", rationale_hint="Why this amount."
    )
    case = make_case(org.alice)
    client.force_login(org.alice.user)
    client.cookies["django_language"] = "pl"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Co się zepsuło i kiedy." in page and "Why this amount." in page
    client.cookies["django_language"] = "en"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Co się zepsuło i kiedy." not in page and "Why this amount." in page


def test_a_manager_edits_one_language_and_leaves_the_others(org, client):
    client.force_login(org.carol.user)
    english = org.refund.purpose_en
    page = client.get("/authority/guidance/refund/?language=pl")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="language" value="pl"' in html and 'aria-current="page">Polski</a>' in html
    assert "Left empty, it shows the English:" in html and english in html  # the fallback, shown
    response = client.post(
        "/authority/guidance/refund/",
        {"language": "pl", "purpose": "Zwrot za wadę.", "good_examples": "", "rationale_hint": "", "reason": "PL"},
    )
    assert response.status_code == 302
    stored = DecisionType.objects.get(pk=org.refund.pk)
    assert (stored.purpose_pl, stored.purpose_en) == ("Zwrot za wadę.", english)
    assert not stored.good_examples_pl  # empty: Polish readers see the English
    record = AuditRecord.objects.get(action="decision_type.guidance_changed")
    assert record.after == {**record.after, "language": "pl", "purpose": "Zwrot za wadę."}
    assert "Zwrot za wadę." in client.get("/authority/guidance/refund/?language=pl").content.decode()
    client.force_login(org.alice.user)
    assert client.post("/authority/guidance/refund/", {"language": "pl", "purpose": "Moje"}).status_code == 403
    assert DecisionType.objects.get(pk=org.refund.pk).purpose_pl == "Zwrot za wadę."


def test_the_admin_edits_the_guidance_in_every_language(org, admin_client):
    page = admin_client.get(f"/admin/delegation/decisiontype/{org.refund.pk}/change/").content.decode()
    for column in ("purpose_en", "purpose_pl", "good_examples_zh_hans", "rationale_hint_is", "rationale_hint_ru"):
        assert f'name="{column}"' in page


def test_the_demo_guidance_is_in_all_five_languages(org):
    for decision_type in DecisionType.objects.all():
        for column in ("purpose", "good_examples", "rationale_hint"):
            for language in ("en", "is", "zh_hans", "ru", "pl"):
                assert getattr(decision_type, f"{column}_{language}"), (decision_type.code, column, language)
