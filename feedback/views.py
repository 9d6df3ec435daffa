"""Pages of the feedback loop.

The customer's survey page (`/feedback/<token>/`) needs no account: the signed link is the key and
the page shows only that case's subject and the customer's first name. It speaks the customer's
language (or the one picked with `?lang=`) and works without JavaScript: plain forms, post, redirect.

Staff pages (follow-ups, the friction board, answers, insights) parse input, call one service or
selector and render; no rule is checked here.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework.throttling import AnonRateThrottle

from delegation.forms import DecisionForm
from delegation.models import Decision
from delegation.selectors import authority_of, decisions_for_case
from empower.errors import DomainError, NotFound
from empower.forms import add_domain_error
from empower.models import Case, Employee
from empower.money import format_money
from empower.selectors import cases_visible_to, subtree_ids
from empower.views import staff_required
from feedback import selectors, services
from feedback.filters import ID_MAX, SurveyFilter
from feedback.forms import (
    CSAT_CHOICES,
    NPS_CHOICES,
    ComplaintForm,
    FollowUpReplyForm,
    FrictionAnswerForm,
    FrictionChangeForm,
    FrictionReportForm,
    FrictionSecondForm,
    SurveyForm,
)
from feedback.models import FollowUp, Survey

PAGE_SIZE = 50

# --- the customer's page -----------------------------------------------------------------------------


def _requested_language(request: HttpRequest) -> str | None:
    code = request.GET.get("lang", "")
    return code if code in dict(settings.LANGUAGES) else None


def _render_public(request: HttpRequest, template: str, context: dict, *, language: str, status: int = 200):
    """Render in the customer's language, whatever the browser or a staff session says."""
    languages = [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
    with translation.override(language):
        response = render(request, template, {**context, "languages": languages, "lang": language}, status=status)
    response.headers["Content-Language"] = language
    return response


def _throttled(request: HttpRequest) -> bool:
    # The same per-address budget as the public API (the `anon` rate in settings).
    return not AnonRateThrottle().allow_request(request, None)


def _survey_or_error(request: HttpRequest, token: str) -> tuple[Survey | None, HttpResponse | None]:
    language = _requested_language(request) or translation.get_language()
    context = {"page_url": reverse("feedback:survey", args=[token])}
    try:
        return services.survey_from_token(token=token), None
    except services.LinkExpired:
        return None, _render_public(request, "feedback/survey_gone.html", context, language=language, status=410)
    except NotFound:
        return None, _render_public(request, "feedback/survey_unknown.html", context, language=language, status=404)


def _survey_page(
    request: HttpRequest,
    survey: Survey,
    token: str,
    *,
    language: str,
    form: SurveyForm | None = None,
    complaint_form: ComplaintForm | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    follow_ups = list(survey.follow_ups.all())
    context = {
        "survey": survey,
        "token": token,
        "first_name": survey.case.customer.first_name,
        "subject": survey.case.subject,
        "form": form or SurveyForm(),
        "complaint_form": complaint_form or ComplaintForm(),
        "csat_choices": CSAT_CHOICES,
        "nps_choices": NPS_CHOICES,
        "follow_ups": follow_ups,
        "open_follow_up": next((f for f in follow_ups if f.is_open), None),
        "can_complain": selectors.may_complain(survey=survey),
        "expires_at": services.survey_expires_at(survey=survey),
        "notice": notice or request.GET.get("done", ""),
        "page_url": reverse("feedback:survey", args=[token]),
    }
    return _render_public(request, "feedback/survey.html", context, language=language, status=status)


def _back_to_survey(token: str, language: str, done: str) -> HttpResponse:
    query = urlencode({"lang": language, "done": done})
    return redirect(f"{reverse('feedback:survey', args=[token])}?{query}")


def _bound(form_class, request: HttpRequest):
    """The form bound to what was posted; None when Django refuses to read a body that large."""
    try:
        return form_class(request.POST)
    except (RequestDataTooBig, TooManyFieldsSent):
        return None


# The customer's page posts without a CSRF token, on purpose: the signed link is its only credential
# (no login, no session, no cookie for another site to ride), and whoever holds the link can post
# anyway. A CSRF check would only turn away real customers whose browser blocks cookies or who come
# back to an old tab. The per-address throttle still applies.
@csrf_exempt
@cache_control(private=True, no_store=True)  # the customer's answer and our reply: never in a shared cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's survey: answer once (CSAT 1-5, optional 0-10, a comment); afterwards the answer
    and, once someone has followed up, what was done.
    """
    survey, error = _survey_or_error(request, token)
    if error:
        return error
    language = _requested_language(request) or survey.case.customer.language
    if request.method == "GET":
        return _survey_page(request, survey, token, language=language)
    if _throttled(request):
        context = {"page_url": reverse("feedback:survey", args=[token])}
        return _render_public(request, "feedback/survey_busy.html", context, language=language, status=429)
    if survey.is_answered:
        return _survey_page(request, survey, token, language=language, notice="already", status=409)
    with translation.override(language):
        form = _bound(SurveyForm, request)
        if form is None:
            return _survey_page(request, survey, token, language=language, notice="too_big", status=413)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.survey_answer(
                    survey_id=survey.pk,
                    csat=data["csat"],
                    nps=data["nps"],
                    comment=data["comment"],
                    comment_is_complaint=data["complaint"],
                )
            except DomainError as domain_error:
                if domain_error.status == 409:
                    survey, _error = _survey_or_error(request, token)
                    return _survey_page(request, survey, token, language=language, notice="already", status=409)
                add_domain_error(form, domain_error)
                status = domain_error.status
            else:
                return _back_to_survey(token, language, "answered")
        else:
            status = 400
    return _survey_page(request, survey, token, language=language, form=form, status=status)


@csrf_exempt  # as the survey itself: the signed link is the only key
@cache_control(private=True, no_store=True)
@require_POST
def survey_complaint(request: HttpRequest, token: str) -> HttpResponse:
    """After answering, the customer raises a complaint; someone answers it by the deadline."""
    survey, error = _survey_or_error(request, token)
    if error:
        return error
    language = _requested_language(request) or survey.case.customer.language
    if _throttled(request):
        context = {"page_url": reverse("feedback:survey", args=[token])}
        return _render_public(request, "feedback/survey_busy.html", context, language=language, status=429)
    with translation.override(language):
        form = _bound(ComplaintForm, request)
        if form is None:
            return _survey_page(request, survey, token, language=language, notice="too_big", status=413)
        if form.is_valid():
            try:
                services.survey_complain(survey_id=survey.pk, message=form.cleaned_data["message"])
            except DomainError as domain_error:
                add_domain_error(form, domain_error)
                status = domain_error.status
            else:
                return _back_to_survey(token, language, "complained")
        else:
            status = 400
    return _survey_page(request, survey, token, language=language, complaint_form=form, status=status)


# --- staff: follow-ups ------------------------------------------------------------------------------


@require_GET
@staff_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    """My follow-ups and those of everyone below me: open ones first, the nearest deadline first."""
    status = request.GET.get("status", "open")
    status = status if status in (*FollowUp.Status.values, "all") else "open"
    follow_ups = selectors.follow_up_list(employee=request.employee, status=None if status == "all" else status)
    page = Paginator(follow_ups, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": FollowUp.Status.choices}
    return render(request, "feedback/follow_up_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def follow_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A follow-up in its context (the answer, the case and its decisions); record what was done and reply."""
    employee = request.employee
    follow_up = selectors.follow_up_detail(employee=employee, follow_up_id=pk)
    if follow_up is None:
        raise Http404
    form = FollowUpReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.follow_up_reply(follow_up_id=pk, employee=employee, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your reply is on its way to the customer."))
                return redirect("feedback:follow-up-detail", pk=pk)
        else:
            status = 400
    return _follow_up_page(request, follow_up, form=form, status=status)


def _remedy_form(employee: Employee, data=None) -> DecisionForm:
    return DecisionForm(data, types=[line.decision_type for line in authority_of(employee=employee).lines])


def _follow_up_page(
    request: HttpRequest,
    follow_up,
    *,
    form: FollowUpReplyForm | None = None,
    remedy_form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    employee = request.employee
    may_reply = selectors.may_reply_to_follow_up(employee=employee, follow_up=follow_up)
    context = {
        "follow_up": follow_up,
        "survey": follow_up.survey,
        "case": follow_up.case,
        "decisions": list(follow_up.survey.case.decisions.all()),
        "form": form or FollowUpReplyForm(),
        "may_reply": may_reply,
        "remedy_form": (remedy_form or _remedy_form(employee)) if may_reply else None,
        "history": list(selectors.history_of(target=follow_up)),
    }
    return render(request, "feedback/follow_up_detail.html", context, status=status)


@require_POST
@staff_required
def follow_up_remedy_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The handler's remedy: a decision on the follow-up's case (`follow_up_remedy`), as any decision."""
    employee = request.employee
    follow_up = selectors.follow_up_detail(employee=employee, follow_up_id=pk)
    if follow_up is None:
        raise Http404
    form = _remedy_form(employee, request.POST)
    status = 400
    if form.is_valid():
        try:
            decision = services.follow_up_remedy(follow_up_id=pk, employee=employee, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            values = {"type": decision.decision_type.name, "amount": format_money(decision.amount, decision.currency)}
            if decision.status == Decision.Status.APPROVED:
                messages.success(request, _("Approved: %(type)s of %(amount)s.") % values)
            else:
                messages.success(request, _("Escalated: %(type)s of %(amount)s goes beyond your authority.") % values)
            return redirect("feedback:follow-up-detail", pk=pk)
    return _follow_up_page(request, follow_up, remedy_form=form, status=status)


# --- staff: survey answers ----------------------------------------------------------------------


@require_GET
@staff_required
def answer_list(request: HttpRequest) -> HttpResponse:
    """Customers' answers on the cases I may see, newest first; a comment can be flagged as a complaint."""
    employee = request.employee
    surveys = selectors.surveys_visible_to(employee=employee).filter(answered_at__isnull=False)
    # A filter that does not parse is left out (and named on the page), never a server error.
    filterset = SurveyFilter(request.GET, queryset=surveys.prefetch_related("follow_ups").order_by("-answered_at"))
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    below = set(subtree_ids(employee=employee, include_self=True))
    flaggable = {s.pk for s in page if selectors.may_treat_as_complaint(employee=employee, survey=s, below=below)}
    return render(request, "feedback/answer_list.html", {"page": page, "filter": filterset, "flaggable": flaggable})


@require_POST
@staff_required
def answer_flag(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.surveys_visible_to(employee=request.employee).filter(pk=pk).first()
    if survey is None:
        raise Http404
    try:
        follow_up = services.survey_flag_complaint(survey_id=pk, employee=request.employee)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("feedback:answers")
    messages.success(request, _("A follow-up is open for this customer."))
    return redirect("feedback:follow-up-detail", pk=follow_up.pk)


# --- staff: policy-friction reports ---------------------------------------------------------------


@require_GET
@staff_required
def report_board(request: HttpRequest) -> HttpResponse:
    """Open reports by rule, most seconded first; my own reports with their answers; those waiting for me."""
    employee = request.employee
    visible = selectors.reports_visible_to(employee=employee)
    context = {
        "groups": selectors.report_board(employee=employee),  # each report knows `may_second`
        "mine": list(visible.filter(reporter=employee).order_by("-created_at")[:20]),
        "to_answer": list(visible.filter(assigned_to=employee, status="open").order_by("due_at")),
        "promises_overdue": list(selectors.promises_overdue_for(employee=employee)[:50]),
        "changed": list(selectors.changed_because_you_told_us(employee=employee)),
    }
    return render(request, "feedback/report_board.html", context)


def _id(raw) -> int | None:
    """A row id from a query string or form: a whole number the database can hold, else None."""
    try:
        value = int(raw)
    except (TypeError, ValueError):  # not a number, or longer than Python parses
        return None
    return value if 1 <= value <= ID_MAX else None


def _case_for_report(request: HttpRequest, raw) -> Case | None:
    case_id = _id(raw)
    if case_id is None:
        return None
    return cases_visible_to(employee=request.employee).filter(pk=case_id).first()


@require_http_methods(["GET", "POST"])
@staff_required
def report_new(request: HttpRequest) -> HttpResponse:
    """ "A rule stopped me from helping this customer", from a case (`?case=<id>`, optional `&decision=<id>`)."""
    employee = request.employee
    source = request.POST if request.method == "POST" else request.GET
    case = _case_for_report(request, source.get("case"))
    if source.get("case") and case is None:
        raise Http404
    decisions = decisions_for_case(case=case) if case else None
    decision_id = _id(request.GET.get("decision"))  # a link's hint only: an unknown one is ignored
    initial = {"case": case.pk if case else None, "decision": decision_id}
    if decisions is not None and decision_id is not None:
        decision = decisions.filter(pk=decision_id).first()
        if decision:
            # An escalated decision names the limits it broke: the first is the likely culprit.
            initial["decision_type"] = decision.decision_type_id
            initial["limit"] = (decision.exceeded or [""])[0]
    form = FrictionReportForm(request.POST or None, initial=initial, decisions=decisions)
    status = 200
    if request.method == "POST":
        if form.is_valid() and case is not None:
            data = form.cleaned_data
            try:
                report = services.friction_report_file(
                    reporter=employee,
                    case=case,
                    decision=data["decision"],
                    decision_type=data["decision_type"],
                    limit=data["limit"],
                    rule_text=data["rule_text"],
                    would_have_done=data["would_have_done"],
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your report went to %(name)s.") % {"name": report.assigned_to})
                return redirect("feedback:report-detail", pk=report.pk)
        else:
            status = 400
    return render(request, "feedback/report_new.html", {"form": form, "case": case}, status=status)


def _report_context(request: HttpRequest, report_id: int, **extra) -> dict:
    employee = request.employee
    report = selectors.report_detail(employee=employee, report_id=report_id)
    if report is None:
        raise Http404
    seconded = {report.pk} if any(s.employee_id == employee.pk for s in report.seconds.all()) else set()
    may_pass_up = selectors.may_pass_up(employee=employee, report=report)
    return {
        "report": report,
        "may_second": selectors.may_second_report(employee=employee, report=report, seconded=seconded),
        "may_answer": selectors.may_answer_now(employee=employee, report=report),
        "may_pass_up": may_pass_up,
        "second_form": FrictionSecondForm(),
        "answer_form": FrictionAnswerForm(pass_up=may_pass_up),
        "may_record_change": selectors.may_record_change(employee=employee, report=report),
        "change_form": FrictionChangeForm(),
        "history": list(selectors.history_of(target=report)),
        **extra,
    }


@require_GET
@staff_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "feedback/report_detail.html", _report_context(request, pk))


@require_POST
@staff_required
def report_second(request: HttpRequest, pk: int) -> HttpResponse:
    context = _report_context(request, pk)
    form = FrictionSecondForm(request.POST)
    if form.is_valid():
        try:
            services.friction_report_second(report_id=pk, employee=request.employee, note=form.cleaned_data["note"])
        except DomainError as error:
            add_domain_error(form, error)
            return render(request, "feedback/report_detail.html", {**context, "second_form": form}, status=error.status)
        messages.success(request, _("You seconded this report."))
        return redirect("feedback:report-detail", pk=pk)
    return render(request, "feedback/report_detail.html", {**context, "second_form": form}, status=400)


@require_POST
@staff_required
def report_answer(request: HttpRequest, pk: int) -> HttpResponse:
    context = _report_context(request, pk)
    form = FrictionAnswerForm(request.POST, pass_up=context["may_pass_up"])
    if form.is_valid():
        try:
            data = form.cleaned_data
            services.friction_report_answer(
                report_id=pk,
                employee=request.employee,
                outcome=data["outcome"],
                note=data["note"],
                change=services.ChangeInput.from_data(data),
            )
        except DomainError as error:
            add_domain_error(form, error)
            return render(request, "feedback/report_detail.html", {**context, "answer_form": form}, status=error.status)
        messages.success(request, _("Your answer was sent to the employee."))
        return redirect("feedback:report-detail", pk=pk)
    return render(request, "feedback/report_detail.html", {**context, "answer_form": form}, status=400)


@require_POST
@staff_required
def report_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep an accepted report's promise: apply the limit or role default, or link the change that did it."""
    context = _report_context(request, pk)
    form = FrictionChangeForm(request.POST)
    if form.is_valid():
        try:
            services.friction_report_change(
                report_id=pk, employee=request.employee, change=services.ChangeInput.from_data(form.cleaned_data)
            )
        except DomainError as error:
            add_domain_error(form, error)
            return render(request, "feedback/report_detail.html", {**context, "change_form": form}, status=error.status)
        messages.success(request, _("The change is recorded; the reporter and those who seconded are told."))
        return redirect("feedback:report-detail", pk=pk)
    return render(request, "feedback/report_detail.html", {**context, "change_form": form}, status=400)


# --- insights --------------------------------------------------------------------------------------


@require_GET
@staff_required
def insights(request: HttpRequest) -> HttpResponse:
    """For managers: CSAT of cases settled at first contact against escalated ones, per team below them."""
    employee = request.employee
    if not selectors.may_see_insights(employee=employee):
        return render(request, "feedback/managers_only.html", status=403)
    period = request.GET.get("period", selectors.DEFAULT_INSIGHT_PERIOD)
    period = period if period in selectors.INSIGHT_PERIODS else selectors.DEFAULT_INSIGHT_PERIOD
    insights = selectors.feedback_insights(employee=employee, period=period)
    context = {
        "teams": insights.teams,
        "total": insights.total,
        "follow_ups": insights.follow_ups,
        "rules": insights.rules,
        "period": period,
        "periods": list(selectors.INSIGHT_PERIODS),
    }
    return render(request, "feedback/insights.html", context)
