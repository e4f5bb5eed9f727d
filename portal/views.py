"""The customer and provider portal: thin views over the lifecycle actions."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, QuerySet
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_POST

from actions.forms import CompleteJobForm
from actions.jobs import AmountError, BookingError, JobStateError, book_job, complete_job, quote
from campaigns.selectors import active_promo_codes
from campaigns.throttle import promo_code_attempt
from loyalty.selectors import loyalty_summary
from loyalty.services import points_for_amount, tier_bonus
from plans.selectors import plan_visit_name
from retention.clock import business_today
from retention.compiled import CompiledPages, CompiledQuery, columns
from retention.models import Job, Notification, ServiceType
from retention.models.promo import normalize_code
from retention.notifications import mark_read
from retention.promo import PromoCodeError

from .access import customer_required, provider_job_or_404, provider_required
from .dashboard import dashboard_context
from .forms import BookingForm


NOTIFICATIONS_PAGE_SIZE = 25
PROVIDER_PAGE_SIZE = 20


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): the same icon."""
    return redirect(static("portal/favicon.svg"), permanent=True)


@login_required
def home(request):
    """Where a login lands: each role's own start page."""
    if hasattr(request.user, "customer"):
        return redirect("portal:dashboard")
    if hasattr(request.user, "provider"):
        return redirect("portal:provider")
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "portal/no_role.html", status=403)


@customer_required
def dashboard(request):
    return render(request, "portal/dashboard.html", dashboard_context(request.customer))


def _earned_points(customer, to_pay) -> int:
    """What completing this booking will earn at the customer's tier today: the same
    loyalty functions award_job_points uses (base points plus the tier bonus)."""
    tier = loyalty_summary(customer=customer).tier
    base = points_for_amount(to_pay)
    return base + tier_bonus(base=base, tier=tier)


def _codes_for_picker(codes, service) -> list[dict]:
    """The customer's codes with the services each covers (none: every service), and
    whether it fits the chosen service (the others start hidden; book.js follows changes).
    Reads each code's `covered` (active_promo_codes), so no query per code."""
    picker = []
    for promo in codes:
        slugs = [covered.slug for covered in promo.covered]
        picker.append(
            {
                "promo": promo,
                "slugs": " ".join(slugs),
                "names": ", ".join(covered.name for covered in promo.covered),
                "fits": not slugs or service is None or service.slug in slugs,
            }
        )
    return picker


SERVICE_TYPE_COLUMNS = columns(ServiceType)
SERVICE_TYPES = CompiledQuery(lambda *, id, day: ServiceType.objects.order_by("name").values_list(*SERVICE_TYPE_COLUMNS))


@customer_required
def book(request):
    """Booking: the price (with any promo code applied) and the points it will earn are
    always shown before the customer confirms. A campaign link (?service=<slug>&code=<code>)
    opens with the code already applied and its price shown. The customer's own codes
    for the chosen service can be picked from a list. Codes typed here go through the
    per-customer throttle, so codes cannot be guessed."""
    customer = request.customer
    tomorrow = business_today() + dt.timedelta(days=1)
    # The service types once, in name order: the select, the link's service, the first
    # service and the picker's slugs all read this list (one query, not five).
    services = [ServiceType.from_db(DEFAULT_DB_ALIAS, SERVICE_TYPE_COLUMNS, row) for row in SERVICE_TYPES.rows()]
    service = next((s for s in services if s.slug == request.GET.get("service", "")), None)
    code = request.GET.get("code", "")
    own_codes = active_promo_codes(customer=customer)
    if request.method == "POST":
        form = BookingForm(request.POST, own_codes=own_codes, services=services)
    elif code:
        if service is None:  # a code limited to some services opens on the first of them
            own = customer.promo_codes.filter(code=normalize_code(code)).first()
            service = (own and own.service_types.order_by("name").first()) or next(iter(services), None)
        form = BookingForm(
            {"service_type": service and service.pk, "scheduled_for": tomorrow, "promo_code": code},
            own_codes=own_codes,
            services=services,
        )
    else:
        form = BookingForm(
            initial={"scheduled_for": tomorrow, "service_type": service}, own_codes=own_codes, services=services
        )
    price_preview = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        service = data["service_type"]
        code_text = form.code_text()
        quoted = f"{data['service_type'].pk}:{normalize_code(code_text)}"
        try:
            with promo_code_attempt(customer=customer, text=code_text):
                # Book only what was priced: a changed service or code is priced again first.
                if request.POST.get("confirm") == "1" and request.POST.get("quoted") == quoted:
                    job = book_job(
                        customer=customer,
                        service_type=data["service_type"],
                        scheduled_for=data["scheduled_for"],
                        promo_code_text=code_text,
                    )
                    messages.success(
                        request,
                        f"Booked {job.service_type.name} on {job.scheduled_for:%B %-d} with "
                        f"{job.provider.business_name} for ${job.amount_paid}.",
                    )
                    return redirect("portal:jobs")
                price, to_pay = quote(customer=customer, service_type=data["service_type"], promo_code_text=code_text)
            price_preview = {
                "price": price,
                "to_pay": to_pay,
                "saving": price - to_pay,
                "quoted": quoted,
                "code": normalize_code(code_text),
                "points": _earned_points(customer, to_pay),
            }
        except (BookingError, PromoCodeError) as exc:
            form.add_error("promo_code" if isinstance(exc, PromoCodeError) else None, str(exc))
    if service is None and not form.is_bound:
        service = next(iter(services), None)
    return render(
        request,
        "portal/book.html",
        {
            "form": form,
            "price_preview": price_preview,
            "code_picker": _codes_for_picker(own_codes, service),
            "service_slugs": {str(s.pk): s.slug for s in services},
        },
    )


# What the jobs page and the provider portal show of every job; each adds its own.
JOB_FIELDS = ("id", "scheduled_for", "status", "amount_paid", "completed_at")


def job_rows(jobs: QuerySet, **shown) -> QuerySet:
    """The jobs as rows of JOB_FIELDS, the service's name, the plan's name (for a plan
    visit) and the expressions `shown`, in that order (job_dict names them)."""
    annotations = {"service": F("service_type__name"), "plan": plan_visit_name(), **shown}
    return jobs.annotate(**annotations).values_list(*JOB_FIELDS, *annotations)


def job_dict(*shown: str):
    """A row of job_rows(..., **shown) as the dict the templates read, with
    `status_label` ("Scheduled") as get_status_display gives it."""
    names = (*JOB_FIELDS, "service", "plan", *shown)

    def make(row: tuple) -> dict:
        job = dict(zip(names, row))
        job["status_label"] = Job.Status(job["status"]).label
        return job

    return make


# The paged lists below are compiled to SQL once per process and read a page at a time
# (retention.compiled.CompiledPages): building Job instances with their service type,
# provider, customer and plan objects, and compiling the count and the page's query, cost
# more than rendering the page. The plan's name is a subquery, not three outer joins.
CUSTOMER_JOBS = CompiledQuery(
    lambda *, id, day: job_rows(
        Job.objects.filter(customer_id=id), provider_name=F("provider__business_name"), code=F("promo_code__code")
    ).order_by("-scheduled_for", "-created_at")
)
PROVIDER_JOBS = {
    status: CompiledQuery(
        lambda *, id, day, status=status: job_rows(
            Job.objects.filter(provider_id=id, status=status),
            customer_name=F("customer__user__name"),
            customer_email=F("customer__user__email"),
        ).order_by(*order)
    )
    for status, order in [(Job.Status.SCHEDULED, ("scheduled_for", "created_at")), (Job.Status.COMPLETED, ("-completed_at",))]
}
NOTIFICATION_COLUMNS = columns(Notification)
NOTIFICATIONS = CompiledQuery(
    lambda *, id, day: Notification.objects.filter(customer_id=id).values_list(*NOTIFICATION_COLUMNS)
)


@customer_required
def jobs(request):
    rows = CompiledPages(CUSTOMER_JOBS, id=request.customer.pk, make=job_dict("provider_name", "code"))
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    return render(request, "portal/jobs.html", {"page": page})


@customer_required
def notifications(request):
    if request.method == "POST":
        mark_read(customer=request.customer)
        return redirect("portal:notifications")
    # A page at a time, like the jobs: the page costs the same for 5 notifications or 500.
    rows = CompiledPages(
        NOTIFICATIONS, id=request.customer.pk,
        make=lambda row: Notification.from_db(DEFAULT_DB_ALIAS, NOTIFICATION_COLUMNS, row),
    )
    page = Paginator(rows, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/notifications.html", {"page": page, "notifications": page.object_list})


@provider_required
def provider_portal(request):
    provider = request.provider
    make = job_dict("customer_name", "customer_email")
    # Soonest first, a page at a time: the page costs the same for 5 scheduled jobs or 500.
    scheduled = CompiledPages(PROVIDER_JOBS[Job.Status.SCHEDULED], id=provider.pk, make=make)
    page = Paginator(scheduled, PROVIDER_PAGE_SIZE).get_page(request.GET.get("page"))
    completed = PROVIDER_JOBS[Job.Status.COMPLETED].rows(id=provider.pk, limit=20)
    return render(
        request,
        "portal/provider.html",
        {"provider": provider, "page": page, "scheduled": page.object_list, "completed": [make(r) for r in completed]},
    )


@require_POST
@provider_required
def provider_complete_job(request, job_id):
    job = provider_job_or_404(request, job_id)
    form = CompleteJobForm(request.POST, job=job, completed_by=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["amount"]))
        return redirect("portal:provider")
    try:
        completion = complete_job(job=job, amount=form.cleaned_data["amount"], completed_by=request.user)
    except (JobStateError, AmountError) as exc:
        messages.error(request, str(exc))
        return redirect("portal:provider")
    if completion.completed_now:
        messages.success(request, f"Marked {job.service_type.name} for {job.customer.name} completed.")
    else:
        messages.info(request, "That job was already completed.")
    return redirect("portal:provider")
