"""Password reset by e-mail: Django's own views, the e-mail through the outbox, rate limited.

Rate limit: at most EMPOWER_PASSWORD_RESET_PER_HOUR requests an hour from one address and for one
e-mail address (the cache counts; an answer past it is a styled 429 page). The answer never says
whether an address is known (Django's view answers "done" either way).
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _

from empower.error_pages import too_many_requests
from empower.services import email_queue

WINDOW_SECONDS = 3600


class OutboxPasswordResetForm(PasswordResetForm):
    """Queues the reset e-mail in the outbox (sent by a worker, retried) instead of sending in the request."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_queue(
            key=f"password-reset:{context['uid']}:{context['token']}",
            to=to_email,
            subject=subject,
            body=body,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )


def _spent(key: str) -> int:
    """Count one more request under `key` this hour; how many there have been."""
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        return 1


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        budget = settings.EMPOWER_PASSWORD_RESET_PER_HOUR
        address = request.META.get("REMOTE_ADDR", "")
        email = (request.POST.get("email") or "").strip().lower()[:254]
        over = _spent(f"password-reset:ip:{address}") > budget
        if email:
            over = _spent(f"password-reset:email:{email}") > budget or over
        if over:
            return too_many_requests(
                request, message=_("Too many password reset requests. Please wait an hour and try again.")
            )
        return super().post(request, *args, **kwargs)
