"""Writes for the feedback loop: asking customers, following up on unhappy ones, staff's friction reports.

Every path (the customer's page, staff pages, the API, admin, the periodic task) calls these; each
function is one action in one transaction, audits itself and tells the people concerned. Statuses
move only through the models' `move_to` (see `feedback.models`).

What lives where (each module imports only those above it in this list):
- `common`: cleaning text from the outside world; who receives work (first active person, stand-ins).
- `links`: the customer's signed survey link, its life and `LinkExpired`.
- `email`: the customers' e-mails (survey link, reply), rendered in their language and queued in the
  organization's outbox (`empower.services.email_queue`), which sends, retries and re-sends them.
- `follow_ups`: opening, replying to and moving up follow-ups.
- `surveys`: asking the customer, their answer, complaints, staff flagging a comment.
- `friction`: filing, seconding, answering and moving up policy-friction reports; accepting names the
  change ("you said, we did").
- `stories`: recognition: applauding and featuring stories, each team's weekly digest.

The names below are the package's public face: callers import `feedback.services` only.
"""

from feedback.models import MAX_COMPLAINTS
from feedback.services.changes import ChangeInput
from feedback.services.common import clean_text
from feedback.services.email import reply_email_queue, survey_email_cancel, survey_email_queue
from feedback.services.follow_ups import follow_up_move_up, follow_up_remedy, follow_up_reply
from feedback.services.friction import (
    friction_report_answer,
    friction_report_change,
    friction_report_file,
    friction_report_move_up,
    friction_report_second,
)
from feedback.services.links import (
    TOKEN_SALT,
    LinkExpired,
    survey_expires_at,
    survey_from_token,
    survey_token,
    survey_url,
)
from feedback.services.stories import (
    stories_digest_send,
    stories_digests_send,
    story_applaud,
    story_feature,
)
from feedback.services.surveys import (
    survey_answer,
    survey_complain,
    survey_flag_complaint,
    survey_request,
)

__all__ = [
    "MAX_COMPLAINTS",
    "TOKEN_SALT",
    "ChangeInput",
    "LinkExpired",
    "clean_text",
    "follow_up_move_up",
    "follow_up_remedy",
    "follow_up_reply",
    "friction_report_answer",
    "friction_report_change",
    "friction_report_file",
    "friction_report_move_up",
    "friction_report_second",
    "reply_email_queue",
    "stories_digest_send",
    "stories_digests_send",
    "story_applaud",
    "story_feature",
    "survey_answer",
    "survey_complain",
    "survey_email_cancel",
    "survey_email_queue",
    "survey_expires_at",
    "survey_flag_complaint",
    "survey_from_token",
    "survey_request",
    "survey_token",
    "survey_url",
]
