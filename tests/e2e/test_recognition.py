"""Recognition and "you said, we did" in the browser: alice makes a wow gesture with its story, erin
applauds it, carol features it; alice reports the refund limit, bob accepts it with a limit change,
and alice's next refund uses it."""

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.test_decide_and_approve import log_in, log_out

STORY = "Her daughter's birthday gift was lost; I sent flowers with the replacement."


def open_case(page: Page, base: str, subject: str, email: str) -> str:
    page.goto(f"{base}/cases/new/")
    page.get_by_label("Customer name").fill("Jo Kettle")
    page.get_by_label("Customer e-mail").fill(email)
    page.get_by_label("Subject").fill(subject)
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    return page.url


def decide(page: Page, decision_type: str, amount: str, rationale: str, story: str = "") -> None:
    page.select_option("#id_decision_type", decision_type)
    page.fill("#id_amount", amount)
    page.fill("#id_rationale", rationale)
    page.fill("#id_story", story)
    page.get_by_role("button", name="Decide").click()


@pytest.mark.e2e
def test_a_wow_story_is_applauded_and_featured_and_a_report_changes_alices_limit(
    live_server, page: Page, transactional_db
):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url

    # alice: a wow gesture needs its story; her budget is beside the form.
    log_in(page, base, "alice")
    open_case(page, base, "Birthday parcel lost", "jo.wow@example.com")
    expect(page.locator("#wow-budget")).to_contain_text("300.00")
    decide(page, "wow", "40.00", "Lost birthday gift")
    expect(page.locator("#id_story_error")).to_contain_text("Tell the story")
    decide(page, "wow", "40.00", "Lost birthday gift", STORY)
    expect(page.locator("#decision-outcome")).to_contain_text("Approved")
    expect(page.locator("#wow-budget")).to_contain_text("260.00")
    log_out(page)

    # erin applauds it once.
    log_in(page, base, "erin")
    page.goto(f"{base}/feedback/stories/")
    story = page.locator("article.story").filter(has_text=STORY)
    expect(story).to_contain_text("Alice, for a customer")
    expect(story).not_to_contain_text("Kettle")  # never the customer's name
    story.get_by_role("button", name="Applaud").click()
    story = page.locator("article.story").filter(has_text=STORY)
    expect(story).to_contain_text("1 applause")
    expect(story).to_contain_text("You applauded")
    expect(story.get_by_role("button", name="Applaud")).to_have_count(0)
    log_out(page)

    # carol, the manager above, features it: first on the team's page.
    log_in(page, base, "carol")
    page.goto(f"{base}/feedback/stories/")
    page.locator("article.story").filter(has_text=STORY).get_by_role("button", name="Feature").click()
    expect(page.locator("#featured")).to_contain_text(STORY)
    log_out(page)

    # alice sees it on her own recognition page.
    log_in(page, base, "alice")
    page.goto(f"{base}/feedback/people/alice/recognition/")
    expect(page.locator("#applause")).to_contain_text("1 applause")
    expect(page.locator("#featured")).to_contain_text(STORY)

    # alice reports the refund limit that stopped her.
    case_url = open_case(page, base, "Two broken kettles", "jo.report@example.com")
    case_id = case_url.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{base}/feedback/reports/new/?case={case_id}")
    page.get_by_label("Decision type").select_option(label="Refund")
    page.get_by_label("Which limit?").select_option("per_decision")
    page.get_by_label("What would you have done for the customer?").fill("Refund 140.00 at once")
    page.get_by_role("button", name="Send to my manager").click()
    page.wait_for_url(re.compile(r"/feedback/reports/\d+/$"))
    report_url = page.url
    log_out(page)

    # bob accepts it, naming the change: alice's refund limit per decision, applied from the report.
    log_in(page, base, "bob")
    page.goto(report_url)
    form = page.locator("#answer-form")
    form.get_by_label("Accept and change something").check()
    form.get_by_label("Your note to the employee").fill("Agreed: you may refund up to 150.00.")
    form.get_by_label("What changes").select_option("limit")
    form.get_by_label("Whose limit (username)").fill("alice")
    form.get_by_label("New limit per decision").fill("150.00")
    form.get_by_role("button", name="Answer").click()
    expect(page.locator("#change")).to_contain_text("Changed because you told us")
    expect(page.locator("#change")).to_contain_text("150.00")
    log_out(page)

    # alice's next refund of 140.00 is within her authority now.
    log_in(page, base, "alice")
    page.goto(report_url)
    expect(page.locator("#change")).to_contain_text("Changed because you told us")
    page.goto(case_url)
    decide(page, "refund", "140.00", "Second kettle broke as well")
    expect(page.locator("#decision-outcome")).to_contain_text("Approved")
