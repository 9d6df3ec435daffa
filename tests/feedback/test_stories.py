"""Stories: wow gestures and customers' kind words, applauded once, featured by a manager above,
sent as a weekly digest per team (once per team and week), customers' names never shown."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from delegation.services import decision_submit
from empower.errors import Conflict, NotAllowed
from empower.models import OutgoingEmail
from feedback import selectors_stories, services
from feedback.models import Applause, FeaturedStory, StoryKind
from feedback.tasks import send_story_digests

STORY = "Her parcel with the birthday gift was lost; I sent flowers with the replacement."


@pytest.fixture
def gesture(org, make_case):
    """alice's approved wow gesture, with its story (customer "Jo Customer<n>")."""

    def make(employee=None, amount="40.00"):
        return decision_submit(
            employee=employee or org.alice,
            case=make_case(employee or org.alice),
            decision_type=org.types["wow"],
            amount=amount,
            rationale="Lost birthday gift",
            story=STORY,
        )

    return make


def test_a_wow_gesture_is_a_story_of_its_team_and_of_everyone_without_the_customers_name(org, gesture):
    decision = gesture()
    total, stories = selectors_stories.stories_page(viewer=org.erin, team_ids=[org.alice.team_id])
    assert total == 1
    story = stories[0]
    assert (story.kind, story.ref_id, story.employee, story.text) == ("wow", decision.pk, org.alice, STORY)
    assert story.customer_label == "a customer"
    assert "Customer" not in story.customer_label
    assert selectors_stories.stories_page(viewer=org.gina, team_ids=[org.gina.team_id])[0] == 0
    assert selectors_stories.stories_page(viewer=org.gina)[0] == 1  # everyone's stories


def test_the_customers_first_name_at_most_by_setting(org, gesture, settings):
    settings.EMPOWER_STORIES_CUSTOMER_FIRST_NAME = True
    gesture()
    story = selectors_stories.stories_page(viewer=org.erin)[1][0]
    assert story.customer_label == "Jo"


def test_an_escalated_gesture_is_not_a_story_until_approved(org, gesture):
    gesture(amount="60.00")  # beyond alice's 50.00 per gesture: escalated
    assert selectors_stories.stories_page(viewer=org.erin)[0] == 0


def test_a_customers_five_with_a_comment_is_a_story_of_who_resolved_it(org, resolve):
    kind = resolve()
    services.survey_answer(survey_id=kind.pk, csat=5, comment="Alice was wonderful")
    four = resolve()
    services.survey_answer(survey_id=four.pk, csat=4, comment="Fine")
    silent = resolve()
    services.survey_answer(survey_id=silent.pk, csat=5, comment="")
    total, stories = selectors_stories.stories_page(viewer=org.erin)
    assert total == 1
    assert (stories[0].kind, stories[0].ref_id, stories[0].employee) == (StoryKind.KIND_WORDS, kind.pk, org.alice)


def test_a_colleague_applauds_once_and_the_employee_is_told(org, gesture):
    decision = gesture()
    services.story_applaud(employee=org.erin, kind="wow", ref_id=decision.pk)
    with pytest.raises(Conflict):
        services.story_applaud(employee=org.erin, kind="wow", ref_id=decision.pk)
    assert Applause.objects.filter(kind="wow", ref_id=decision.pk).count() == 1
    assert org.alice.notifications.filter(key__startswith=f"story:wow-{decision.pk}:applause").count() == 1


def test_the_manager_above_applauds_too_but_not_the_employee_nor_another_team(org, gesture):
    decision = gesture()
    services.story_applaud(employee=org.carol, kind="wow", ref_id=decision.pk)
    with pytest.raises(NotAllowed):
        services.story_applaud(employee=org.alice, kind="wow", ref_id=decision.pk)
    with pytest.raises(NotAllowed):
        services.story_applaud(employee=org.gina, kind="wow", ref_id=decision.pk)
    story = selectors_stories.stories_page(viewer=org.erin)[1][0]
    assert (story.applause, story.can_applaud, story.applauded) == (1, True, False)
    story = selectors_stories.stories_page(viewer=org.carol)[1][0]
    assert (story.applauded, story.can_applaud, story.can_feature) == (True, False, True)


def test_a_manager_above_features_a_story_once_colleagues_may_not(org, gesture):
    decision = gesture()
    with pytest.raises(NotAllowed):
        services.story_feature(employee=org.erin, kind="wow", ref_id=decision.pk)
    services.story_feature(employee=org.carol, kind="wow", ref_id=decision.pk)
    with pytest.raises(Conflict):
        services.story_feature(employee=org.bob, kind="wow", ref_id=decision.pk)
    assert FeaturedStory.objects.get().featured_by == org.carol
    featured = selectors_stories.featured_stories(viewer=org.erin, team_ids=[org.alice.team_id])
    assert [s.ref_id for s in featured] == [decision.pk]


def test_the_weekly_digest_goes_once_per_team_and_week_in_each_recipients_language(org, gesture):
    org.erin.language = "de"
    org.erin.save()
    monday = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    with time_machine.travel(monday - timedelta(days=2)):
        gesture()
    with time_machine.travel(monday):
        first = send_story_digests()
        again = send_story_digests()
    # Customer Care: alice, erin, frank and bob, and above them carol and dan; Returns has no story.
    keys = set(OutgoingEmail.objects.filter(key__startswith="stories-digest:").values_list("key", flat=True))
    assert first == 6 and again == 0 and len(keys) == 6
    assert all(key.startswith(f"stories-digest:{org.alice.team_id}:2026-W50:") for key in keys)
    erin_mail = OutgoingEmail.objects.get(key=f"stories-digest:{org.alice.team_id}:2026-W50:{org.erin.pk}")
    assert erin_mail.language == "de" and STORY in erin_mail.body
    with time_machine.travel(monday + timedelta(days=1)):
        assert send_story_digests() == 0  # the same week
    with time_machine.travel(monday + timedelta(days=7)):
        assert send_story_digests() == 0  # next week: no story in the last seven days
        gesture()
        assert send_story_digests() == 6  # a new week, a new story: one more digest


# --- pages and API ----------------------------------------------------------------------------------


def test_stories_page_shows_the_story_and_the_applaud_button_exactly_when_accepted(org, gesture, client):
    decision = gesture()
    client.force_login(org.erin.user)
    page = client.get("/feedback/stories/").content.decode()
    assert STORY.replace("'", "&#x27;") in page
    assert f"/feedback/stories/wow/{decision.pk}/applaud/" in page
    assert f"/feedback/stories/wow/{decision.pk}/feature/" not in page
    client.post(f"/feedback/stories/wow/{decision.pk}/applaud/", {"next": "/feedback/stories/"})
    page = client.get(f"/feedback/stories/?team={org.alice.team_id}").content.decode()
    assert f"/feedback/stories/wow/{decision.pk}/applaud/" not in page
    assert "You applauded" in page
    client.force_login(org.alice.user)
    page = client.get("/feedback/stories/").content.decode()
    assert f"/feedback/stories/wow/{decision.pk}/applaud/" not in page  # one's own story


def test_api_lists_applauds_once_and_features(org, api, gesture):
    decision = gesture()
    listed = api("erin").get("/api/v1/stories/", {"team": org.alice.team_id}).json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert (row["kind"], row["id"], row["employee"], row["text"], row["customer"]) == (
        "wow",
        decision.pk,
        "alice",
        STORY,
        "a customer",
    )
    assert row["amount"] == "40.00" and row["can_applaud"] is True
    url = f"/api/v1/stories/wow/{decision.pk}/"
    response = api("erin").post(url + "applaud/")
    assert response.status_code == 201 and response.json()["applause"] == 1
    assert api("erin").post(url + "applaud/").status_code == 409
    assert api("alice").post(url + "applaud/").status_code == 403
    assert api("erin").post(url + "feature/").status_code == 403
    assert api("carol").post(url + "feature/").status_code == 201
    assert api("carol").post(url + "feature/").status_code == 409
    assert api("erin").get("/api/v1/stories/", {"featured": "true"}).json()["count"] == 1
    assert api("erin").post("/api/v1/stories/wow/999999/applaud/").status_code == 404
    assert api("erin").get("/api/v1/stories/", {"team": "x"}).status_code == 400


def test_recognition_for_the_person_and_those_above_only_and_never_ranked(org, api, gesture, client):
    decision = gesture()
    services.story_applaud(employee=org.erin, kind="wow", ref_id=decision.pk)
    services.story_feature(employee=org.bob, kind="wow", ref_id=decision.pk)
    mine = api("alice").get("/api/v1/employees/alice/recognition/").json()
    assert mine["applause_received"] == 1 and [s["id"] for s in mine["featured"]] == [decision.pk]
    assert api("bob").get("/api/v1/employees/alice/recognition/").status_code == 200
    assert api("erin").get("/api/v1/employees/alice/recognition/").status_code == 404
    client.force_login(org.alice.user)
    page = client.get("/feedback/people/alice/recognition/").content.decode()
    assert "Your recognition" in page and STORY.replace("'", "&#x27;") in page
    assert "rank" not in page.lower().replace("ranked", "")
    client.force_login(org.erin.user)
    assert client.get("/feedback/people/alice/recognition/").status_code == 404


@pytest.mark.parametrize("many", [3, 30])
def test_stories_page_runs_the_same_queries_for_3_or_30_stories(
    org, gesture, client, many, django_assert_max_num_queries
):
    for _ in range(many):
        decision = gesture(amount="1.00")
        services.story_applaud(employee=org.erin, kind="wow", ref_id=decision.pk)
        services.story_feature(employee=org.bob, kind="wow", ref_id=decision.pk)
    client.force_login(org.frank.user)
    client.get("/feedback/stories/")  # warm the session and the cached catalogue
    with django_assert_max_num_queries(25):  # the same for 3 and 30: one query per kind of story
        response = client.get("/feedback/stories/")
    assert response.status_code == 200 and response.content.decode().count('class="story panel"') == min(
        many, 10
    ) + min(many, 20)
