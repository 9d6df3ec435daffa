"""The story a wow gesture must carry: what the customer needed and what was done.

One home for the rule, called by `decision_submit` (so the page, the API and any other path share
it); the feedback app shares the stories with colleagues.
"""

import re

from django.utils.translation import gettext_lazy as _

from delegation.models import DecisionType
from empower.errors import InvalidInput

STORY_MAX = 2000
# Control characters (NUL breaks PostgreSQL) and bidirectional overrides go; line breaks stay.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def story_clean(*, decision_type: DecisionType, story) -> str:
    """The story, cleaned; required (non-blank) for a type that `requires_story` (the wow budget)."""
    text = _UNWANTED.sub("", str(story or "")).replace("\r\n", "\n").strip()
    if decision_type.requires_story and not text:
        message = _("Tell the story: what the customer needed and what you did.")
        raise InvalidInput(message, field_errors={"story": [message]})
    if len(text) > STORY_MAX:
        message = _("Please keep it to %(max)d characters (this has %(length)d).") % {
            "max": STORY_MAX,
            "length": len(text),
        }
        raise InvalidInput(message, field_errors={"story": [message]})
    return text
