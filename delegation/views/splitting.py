"""Possible splits of the people below me: decisions of one type for one customer within a short
window, together above the maker's per-decision limit (flagged by `splitting_detect`, never blocked)."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from delegation.selectors.splitting import split_flags_visible_to
from delegation.views.common import page_context
from empower.views import staff_required

PAGE_SIZE = 50


@require_GET
@staff_required
def split_flags_view(request: HttpRequest) -> HttpResponse:
    flags = split_flags_visible_to(employee=request.employee).prefetch_related("decisions__case")
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "authority/splits.html", {"page": page, **page_context(request)})
