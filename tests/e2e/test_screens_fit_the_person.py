"""The everyday screens in a real browser, on a desktop and on a 390-pixel phone: menus that fit the
person, guidance beside the decision form (in the reader's language), styled error pages, the stand-in
picker and the approver's reminder, each in the development (DEBUG=1, as `make run` writes it) and the
production configuration (the `debug` fixture, tests/e2e/conftest.py); money in the reader's locale;
and the screenshots of the main screens (docs/screenshots/ when SCREENSHOTS_DIR points there)."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from delegation.models import DecisionType, Escalation
from delegation.services import decision_submit
from delegation.tasks import review_assigned_escalations
from empower.models import Case, Employee, Notification, OutgoingEmail
from empower.services import case_open
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def demo(transactional_db, live_server):
    call_command("seed_demo", password=PASSWORD, with_examples=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return live_server.url


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()  # "Log in" in any language
    expect(page.locator("form[action='/accounts/logout/']")).to_be_visible()


def in_language(page: Page, base: str, code: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": code, "url": base}])


def nav(page: Page):
    return page.get_by_role("navigation", name="Main")


@pytest.mark.e2e
def test_menus_fit_the_person_on_a_desktop(demo, page: Page, debug, problems):
    page.set_viewport_size(DESKTOP)
    log_in(page, demo, "alice")
    expect(nav(page).get_by_role("link", name="My authority")).to_be_visible()
    for managers_only in ("Guidance", "Insights", re.compile("^Escalations")):
        expect(nav(page).get_by_role("link", name=managers_only)).to_have_count(0)
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()  # the phone's fold, not on a desktop

    page.context.clear_cookies()
    log_in(page, demo, "carol")
    for link in ("Guidance", "Insights", "Authority", re.compile("^Escalations")):
        expect(nav(page).get_by_role("link", name=link)).to_be_visible()
    assert problems == []


@pytest.mark.e2e
def test_on_a_phone_the_menu_folds_and_the_authority_panel_is_one_tap_away(demo, page: Page, debug, problems):
    page.set_viewport_size(PHONE)
    log_in(page, demo, "alice")
    queue_link = nav(page).get_by_role("link", name="Queue")
    expect(queue_link).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(queue_link).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sideways

    case = Case.objects.filter(assigned_to__user__username="alice", status="open").order_by("pk").first()
    page.goto(f"{demo}/cases/{case.pk}/")
    jump = page.get_by_role("link", name="What you may still decide")
    expect(jump).to_be_visible()
    jump.click()
    expect(page.locator("#authority-panel")).to_be_in_viewport()
    assert problems == []


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_guidance_is_beside_the_decision_form_and_follows_the_type(demo, page: Page, viewport, debug, problems):
    page.set_viewport_size(viewport)
    log_in(page, demo, "alice")
    case = Case.objects.filter(assigned_to__user__username="alice", status="open").order_by("pk").first()
    page.goto(f"{demo}/cases/{case.pk}/")
    panel = page.locator("#guidance")
    expect(panel).to_contain_text("How we decide")
    expect(panel.locator("details[open]")).to_have_count(0)  # nothing chosen yet
    page.select_option("#id_decision_type", "refund")
    expect(page.locator("#guidance details[data-type='refund']")).to_have_attribute("open", "")
    expect(page.locator("#guidance details[data-type='refund']")).to_contain_text("how you checked it")
    page.select_option("#id_decision_type", "goodwill_credit")
    expect(page.locator("#guidance details[data-type='goodwill_credit']")).to_have_attribute("open", "")
    expect(page.locator("#guidance details[data-type='goodwill_credit']")).to_contain_text("why this amount fits it")
    if viewport == DESKTOP:  # beside the form: the panel's top is level with the form's section
        form_box = page.locator("#decide").bounding_box()
        panel_box = page.locator("#guidance").bounding_box()
        assert panel_box["x"] > form_box["x"] + form_box["width"] - 1
    assert problems == []


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_guidance_in_polish_as_a_manager_wrote_it_and_the_english_where_there_is_none(
    demo, page: Page, viewport, debug, problems
):
    """Carol writes the refund's rationale hint in Polish (the edit page's language picker, the
    English it falls back to shown beside); Alice, reading in Polish, finds it beside the decision
    form, and the English where a type has no Polish text."""
    DecisionType.objects.filter(code="goodwill_credit").update(rationale_hint_pl=None)
    page.set_viewport_size(viewport)
    log_in(page, demo, "carol")
    page.goto(f"{demo}/authority/guidance/")
    page.get_by_role("link", name="Edit Refund").click()
    page.get_by_role("navigation", name="Language of the guidance").get_by_role("link", name="Polski").click()
    expect(page.get_by_role("group", name="The guidance in Polski")).to_be_visible()
    hint = page.get_by_label("What to write in the rationale")
    expect(hint).to_have_attribute("lang", "pl")
    expect(page.locator("#id_rationale_hint_helptext")).to_contain_text("how you checked it")  # the English
    hint.fill("Co się zepsuło, jak to sprawdzono i dlaczego zwrot, a nie wymiana.")
    page.get_by_label("Why this change").fill("Standards in Polish")
    page.get_by_role("button", name="Save the guidance").click()
    expect(page.locator(".messages")).to_contain_text("(polski)")

    page.context.clear_cookies()
    in_language(page, demo, "pl")
    log_in(page, demo, "alice")
    case = Case.objects.filter(assigned_to__user__username="alice", status="open").order_by("pk").first()
    page.goto(f"{demo}/cases/{case.pk}/")
    page.select_option("#id_decision_type", "refund")
    refund = page.locator("#guidance details[data-type='refund']")
    expect(refund).to_have_attribute("open", "")
    expect(refund).to_contain_text("Co się zepsuło, jak to sprawdzono i dlaczego zwrot, a nie wymiana.")
    expect(refund).to_contain_text("Oddaj pieniądze, gdy zawiódł produkt")  # seeded Polish
    page.select_option("#id_decision_type", "goodwill_credit")
    goodwill = page.locator("#guidance details[data-type='goodwill_credit']")
    expect(goodwill).to_contain_text("Przeproś tak, by klient to poczuł")
    expect(goodwill).to_contain_text("why this amount fits it")  # no Polish text: the English
    assert problems == []


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_approver_is_reminded_in_the_app_before_the_deadline(
    demo, page: Page, viewport, debug, problems, django_capture_on_commit_callbacks
):
    """Three quarters of Bob's working hours gone, the periodic task reminds him once: a notification
    he sees in the app (and an e-mail in the outbox), which opens the escalation."""
    alice = Employee.objects.get(user__username="alice")
    case = case_open(employee=alice, customer_name="Jo Sofa", customer_email="jo.sofa@example.com", subject="Torn")
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=alice,
            case=case,
            decision_type=DecisionType.objects.get(code="refund"),
            amount="150.00",
            rationale="Sofa arrived torn",
        )
    escalation = Escalation.objects.select_related("assigned_to__user").get(decision=decision)
    assert escalation.assigned_to.user.username == "bob" and escalation.remind_at is not None
    # Three quarters of the way: the moment routing set for the reminder has passed.
    Escalation.objects.filter(pk=escalation.pk).update(remind_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        review_assigned_escalations()
        review_assigned_escalations()  # the next minute's run: nothing new to say

    page.set_viewport_size(viewport)
    log_in(page, demo, "bob")
    expect(page.locator("#nav-notifications .badge")).to_have_text(re.compile(r"^[1-9]"))
    page.goto(f"{demo}/notifications/")
    about_it = page.locator(f"main a[href='/escalations/{escalation.pk}/']")  # "needs your approval" too
    reminder = about_it.filter(has_text="Reminder")
    expect(reminder).to_have_count(1)
    expect(reminder).to_contain_text(
        re.compile(rf"^Reminder: Alice is waiting for your answer on Refund .+ \(case #{case.pk}\)\. It is due by ")
    )
    told = Notification.objects.get(recipient__user__username="bob", key__contains=f"{escalation.pk}:reminder")
    assert OutgoingEmail.objects.filter(key=told.email_key, to="bob@example.com").count() == 1
    reminder.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Escalation #{escalation.pk}")
    assert problems == []


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_error_pages_are_styled_and_the_api_stays_json(demo, page: Page, viewport, debug):
    """The same styled pages with DEBUG on: Django's technical 404 would show otherwise
    (empower.middleware.StyledNotFoundMiddleware); only a 500 keeps its traceback page there."""
    page.set_viewport_size(viewport)
    response = page.goto(f"{demo}/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this page")
    expect(page.get_by_role("link", name="Back to the queue")).to_be_visible()
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") != "rgba(0, 0, 0, 0)"
    )

    api = page.request.get(f"{demo}/api/v1/no-such-thing/")
    assert api.status == 404 and api.json()["detail"]

    log_in(page, demo, "alice")
    response = page.goto(f"{demo}/authority/guidance/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This page is not for you")
    response = page.goto(f"{demo}/cases/999999/")  # a view's own 404: no such case
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find this page")

    in_language(page, demo, "pl")
    page.goto(f"{demo}/no-such-page/")
    assert page.locator("html").get_attribute("lang") == "pl"
    expect(page.get_by_role("heading", level=1)).to_have_text("Nie udało się znaleźć tej strony")


@pytest.mark.e2e
def test_money_is_written_as_the_reader_expects(demo, page: Page, debug, problems):
    log_in(page, demo, "alice")
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("€2,000.00")
    in_language(page, demo, "pl")
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("2\u00a0000,00\u00a0€")
    in_language(page, demo, "is")
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("2.000,00\u00a0EUR")
    assert problems == []


@pytest.mark.e2e
def test_the_stand_in_is_picked_from_a_searchable_list_and_ending_asks_first(demo, page: Page, debug, problems):
    log_in(page, demo, "bob")
    page.goto(f"{demo}/delegations/")
    page.get_by_label("Find a colleague").fill("retu")
    expect(page.locator("#id_to option")).to_have_count(3)  # "Choose…", gina and hank
    page.select_option("#id_to", "hank")
    page.get_by_label("Refund").check()
    page.fill("#id_ends_at", "2099-01-01T10:00")
    page.get_by_label("Reason").fill("Holiday")
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator("#delegations-given")).to_contain_text("Hank")
    page.get_by_text("End now…").click()
    expect(page.get_by_text("End it now?")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Yes, end it")).click()
    expect(page.locator("#delegations-given")).to_contain_text("Ended")
    assert problems == []


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["en", "pl"])
def test_screenshots_of_the_main_screens(demo, page: Page, language, tmp_path):
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    in_language(page, demo, language)
    shots = []

    def shot(name: str, viewport=DESKTOP) -> None:
        page.set_viewport_size(viewport)
        path = folder / f"{name}-{language}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page.set_viewport_size(DESKTOP)
    log_in(page, demo, "alice")
    shot("queue")
    case = Case.objects.filter(customer__email="maria.kowalska@example.com").get()
    page.goto(f"{demo}/cases/{case.pk}/")
    page.select_option("#id_decision_type", "refund")  # its guidance opens beside the form
    shot("case")
    shot("case-phone", PHONE)
    page.context.clear_cookies()
    in_language(page, demo, language)
    log_in(page, demo, "bob")
    page.goto(f"{demo}/escalations/")
    shot("inbox")
    page.goto(f"{demo}/authority/")
    shot("authority")
    page.goto(f"{demo}/authority/guidance/refund/?language={language}")  # bob leads a team: he edits it
    shot("guidance-edit")
    assert all(path.stat().st_size > 10_000 for path in shots)


CLIPPED = """() => [...document.querySelectorAll('.money, .caps dd, td.num')].filter((el) => {
  if (el.scrollWidth > el.clientWidth + 1) return true;  // its own box cuts the figure
  const box = el.getBoundingClientRect();
  for (let up = el.parentElement; up; up = up.parentElement) {
    const style = getComputedStyle(up);
    if (style.overflowX === 'visible') continue;
    const edge = up.getBoundingClientRect();
    // Inside a scrolling box the figure is reachable; only a box that hides overflow cuts it.
    if (style.overflowX === 'hidden' || style.overflowX === 'clip') {
      if (box.right > edge.right + 1 || box.left < edge.left - 1) return true;
    }
  }
  return false;
}).map((el) => el.textContent)"""


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_long_figures_are_never_cut_off_in_chinese(demo, page: Page, viewport, debug, problems):
    from delegation.models import AuthorityLimit, Decision, DecisionType
    from empower.models import Role

    # The longest figures a manager meets: millions in every cap.
    AuthorityLimit.objects.filter(role=Role.objects.get(code="manager"), decision_type__code="refund").update(
        per_decision="9876543.21", per_day="98765432.10", per_month="987654321.00", per_customer_month="98765432.10"
    )
    assert DecisionType.objects.filter(code="refund").exists()
    # And a decision's amount in the millions, on its case card and in the cockpit's totals.
    decision = Decision.objects.filter(status=Decision.Status.APPROVED).order_by("pk").first()
    Decision.objects.filter(pk=decision.pk).update(amount="9876543.21", final_amount="9876543.21")
    page.set_viewport_size(viewport)
    in_language(page, demo, "zh-hans")
    log_in(page, demo, "carol")
    for path in ("/authority/me/", "/authority/", "/authority/roles/", f"/cases/{decision.case_id}/", "/insights/"):
        page.goto(f"{demo}{path}")
        expect(page.locator(".money, td.num").first).to_be_attached()
        assert page.evaluate(CLIPPED) == [], path
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("€987,654,321.00")  # the whole figure is on the page
    page.goto(f"{demo}/cases/{decision.case_id}/")
    expect(page.locator(f"#decision-{decision.pk}")).to_contain_text("€9,876,543.21")
    assert problems == []
