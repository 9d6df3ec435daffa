"""Rules about one row: a case's status moves only along its pipeline."""

import pytest

from empower.errors import Conflict
from empower.models import Case


def test_a_resolved_case_cannot_be_resolved_again_and_nothing_changes(org, make_case):
    case = make_case()
    case.move_to(Case.Status.RESOLVED, resolution_note="Refunded", resolved_by=org.alice)

    with pytest.raises(Conflict) as refused:
        case.move_to(Case.Status.RESOLVED, resolution_note="Again", resolved_by=org.bob)

    assert refused.value.code == "case_resolved"
    case.refresh_from_db()
    assert (case.status, case.resolution_note, case.resolved_by) == (Case.Status.RESOLVED, "Refunded", org.alice)
