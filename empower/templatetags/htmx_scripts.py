"""`{% htmx_scripts %}`: htmx, and in development (DEBUG) our own error helper instead of django-htmx's.

django-htmx's `{% htmx_script %}` adds its debug helper whenever DEBUG is on, and that helper shows
every 400, 403, 404 and 500 answer full-screen, so a refused form (answered 4xx with its errors, which
htmx swaps in place in production) replaced the whole page in development. `static/js/htmx-dev.js`
shows only server errors (5xx) full-screen: forms behave the same with DEBUG on and off.
"""

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def htmx_scripts() -> SafeString:
    tags = format_html('<script src="{}" defer></script>', static("django_htmx/htmx-2.min.js"))
    if settings.DEBUG:
        tags += format_html('<script src="{}" defer></script>', static("js/htmx-dev.js"))
    return tags
