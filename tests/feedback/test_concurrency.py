"""Single use holds under concurrency: real threads answering one link at once, each with its own connection."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from empower.errors import Conflict
from empower.models import Employee
from empower.services import case_open, case_resolve
from feedback import services
from feedback.models import FollowUp, Survey

ATTEMPTS = 8


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_answers_to_one_link_record_exactly_one(tmp_path):
    call_command("seed_demo", password="pw-concurrency", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    alice = Employee.objects.get(user__username="alice")
    case = case_open(employee=alice, customer_name="Jo Kettle", customer_email="jo@example.com", subject="Kettle")
    case_resolve(employee=alice, case=case, resolution_note="Replaced")
    survey = Survey.objects.get(case=case)
    start = threading.Barrier(ATTEMPTS)
    answered: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def answer(csat: int) -> None:
        try:
            start.wait()
            services.survey_answer(survey_id=survey.pk, csat=csat, comment=f"Answer {csat}")
            answered.append(csat)
        except Conflict:
            refused.append(csat)
        except BaseException as error:  # reported below, never swallowed
            errors.append(error)
        finally:
            connection.close()

    # Scores 1 and 2 would each open a follow-up: only the one recorded answer may.
    threads = [threading.Thread(target=answer, args=(1 + n % 5,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(answered) == 1 and len(refused) == ATTEMPTS - 1
    survey.refresh_from_db()
    assert survey.csat == answered[0] and survey.comment == f"Answer {answered[0]}"
    assert FollowUp.objects.filter(survey=survey).count() == (1 if answered[0] <= 2 else 0)
