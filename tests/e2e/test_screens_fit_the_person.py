"""The everyday screens in a real browser, on a desktop and on a 390-pixel phone: menus that fit the
person, guidance beside the decision form, styled error pages, money in the reader's locale; and the
screenshots of the main screens (docs/screenshots/ when SCREENSHOTS_DIR points there)."""

import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from empower.models import Case
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
def test_menus_fit_the_person_on_a_desktop(demo, page: Page):
    page.set_viewport_size(DESKTOP)
    log_in(page, demo, "alice")
    expect(nav(page).get_by_role("link", name="My authority")).to_be_visible()
    for managers_only in ("Guidance", "Insights", re.compile("^Escalations")):
        expect(nav(page).get_by_role("link", name=managers_only)).to_have_count(0)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()

    page.context.clear_cookies()
    log_in(page, demo, "carol")
    for link in ("Guidance", "Insights", "Authority", re.compile("^Escalations")):
        expect(nav(page).get_by_role("link", name=link)).to_be_visible()


@pytest.mark.e2e
def test_on_a_phone_the_menu_folds_and_the_authority_panel_is_one_tap_away(demo, page: Page):
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


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_guidance_is_beside_the_decision_form_and_follows_the_type(demo, page: Page, viewport):
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


@pytest.mark.e2e
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_error_pages_are_styled_and_the_api_stays_json(demo, page: Page, viewport):
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

    in_language(page, demo, "pl")
    page.goto(f"{demo}/no-such-page/")
    assert page.locator("html").get_attribute("lang") == "pl"


@pytest.mark.e2e
def test_money_is_written_as_the_reader_expects(demo, page: Page):
    log_in(page, demo, "alice")
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("€2,000.00")
    in_language(page, demo, "pl")
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("2\u00a0000,00\u00a0€")
    in_language(page, demo, "is")
    page.goto(f"{demo}/authority/me/")
    expect(page.locator("main")).to_contain_text("2.000,00\u00a0EUR")


@pytest.mark.e2e
def test_the_stand_in_is_picked_from_a_searchable_list_and_ending_asks_first(demo, page: Page):
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
    shot("case")
    shot("case-phone", PHONE)
    page.context.clear_cookies()
    in_language(page, demo, language)
    log_in(page, demo, "bob")
    page.goto(f"{demo}/escalations/")
    shot("inbox")
    page.goto(f"{demo}/authority/")
    shot("authority")
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
def test_long_figures_are_never_cut_off_in_chinese(demo, page: Page, viewport):
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
