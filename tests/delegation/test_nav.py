"""The header on every page: counts, links, and the stand-in banner."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delegation.services import delegation_create


@pytest.mark.parametrize("path", ["/", "/escalations/", "/notifications/", "/authority/", "/feedback/reports/"])
def test_a_stand_in_sees_the_banner_on_every_page(org, client, path):
    now = timezone.now()
    delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=3),
        reason="Holiday",
    )
    client.force_login(org.erin.user)
    page = client.get(path).content.decode()
    assert page.count("You are standing in for Bob") == 1
    # Standing in for her team lead, erin answers his escalations: the inbox is in her menu.
    assert 'id="nav-escalations"' in page
    assert 'href="/authority/me/"' in page and 'href="/delegations/"' in page
    client.force_login(org.frank.user)
    page = client.get(path).content.decode()
    assert "You are standing in for" not in page and 'id="nav-escalations"' not in page
