"""The bench's fixtures: each side of the comparison can use the tokens it is given (the bare
endpoint authenticates with DRF's own `TokenAuthentication`, the app with its API tokens)."""

import pytest
from django.core.management import call_command
from rest_framework.authentication import TokenAuthentication

from bench.fixtures import bench_org
from empower.tokens import ApiTokenAuthentication


@pytest.mark.django_db
def test_the_bench_org_gives_both_sides_tokens_they_accept(rf):
    call_command("seed_demo", password="bench", stdout=open("/dev/null", "w"))  # noqa: SIM115
    org = bench_org("t1", race_amount="1.00", race_allowed=50)

    agents = [agent for agent, _token, _case in org["agents"]]
    bare_users = [TokenAuthentication().authenticate_credentials(key)[0] for key in org["bare_tokens"]]
    assert [user.pk for user in bare_users] == [agent.user_id for agent in agents]

    _agent, app_token, _case = org["agents"][0]
    request = rf.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {app_token}")
    user, _auth = ApiTokenAuthentication().authenticate(request)
    assert user.pk == agents[0].user_id
