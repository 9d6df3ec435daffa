"""The cockpit's navigation and number formats.

`{% cockpit_tabs current %}` lists the cockpit's tabs.
"""

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

# (URL name, label), in the order shown.
COCKPIT_TABS = [
    ("cockpit-pyramid", _("The inverted pyramid")),
    ("cockpit", _("Decisions at the edge")),
    ("feedback:insights", _("Satisfaction")),
    ("cockpit-recommendations", _("Recommendations")),
    ("cockpit-track-records", _("Track records")),
    ("cockpit-what-if", _("What if")),
]


@register.inclusion_tag("feedback/cockpit/_tabs.html", takes_context=True)
def cockpit_tabs(context, current: str) -> dict:
    request = context.get("request")
    period = request.GET.get("period") if request is not None else None
    tabs = []
    for name, label in COCKPIT_TABS:
        url = reverse(name)
        tabs.append({"url": f"{url}?period={period}" if period else url, "label": label, "current": name == current})
    return {"tabs": tabs}


@register.filter
def percent(share) -> str:
    """0.834 → "83 %"; None → "—"."""
    return "—" if share is None else f"{round(float(share) * 100)} %"


@register.filter
def duration(seconds) -> str:
    """Seconds as hours and minutes ("3 h 05 min", "42 min"); None → "—"."""
    if seconds is None:
        return "—"
    minutes = round(float(seconds) / 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return _("%(days).1f days") % {"days": (hours + minutes / 60) / 24}
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
