"""Settings for Retention, read from the environment through django-environ.

Every variable is documented, with its default, in `.env.example`.
"""

import datetime as dt
import os
import shlex
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
env = environ.Env()
# An empty value means unset, so `.env.example` copied to `.env` as it is leaves every
# default in force (an empty DATABASE_URL is "not set", an empty SECURE_SSL_REDIRECT
# follows DEBUG).
env.ENVIRON = {name: value for name, value in os.environ.items() if value != ""}

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-change-me" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The brand customers see: every email's header and the sender's display name.
SITE_NAME = env.str("SITE_NAME", default="HomeServices")
# The postal address in every email's footer (CAN-SPAM requires it on marketing email).
COMPANY_POSTAL_ADDRESS = env.str("COMPANY_POSTAL_ADDRESS", default="100 Main Street, Springfield, IL 62701, USA")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",  # login throttling (accounts/throttle.py)
    # Ours, lowest first: retention is the shared core and outbox its email pipeline;
    # loyalty, campaigns and reminders build on them; actions spans them; portal is the web layer on top.
    "retention",
    "outbox",
    "loyalty",
    "campaigns",
    "reminders",
    "bundles",  # service bundles booked together at a discount
    "recommendations",  # services to book next, with reasons; nightly co-occurrence
    "experiments",  # holdout groups of the seasonal and win-back sends
    "referrals",
    "plans",  # maintenance plans: models and rules below actions, subscribing and the daily job above it
    "actions",
    "accounts",  # login, its throttling and password reset
    "portal",
    "metrics",  # staff-only numbers over every app above
    # After ours: retention's `crontab` command (which checks for the crontab program)
    # takes the place of django-crontab's.
    "django_crontab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: /api/ answers in the error shape, NUL is refused.
    "retention.middleware.ApiRequestMiddleware",
    "retention.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
    {
        # Plain text (email subjects and text parts): nothing is HTML-escaped, so
        # "Lawn & Garden" stays as written. Render with render_to_string(..., using="text").
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# PostgreSQL everywhere: production, tests, CI and the demo (scripts/demo starts an
# embedded PostgreSQL and sets DATABASE_URL when it is unset).
if "DATABASE_URL" not in env.ENVIRON:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set: point it at PostgreSQL, e.g. "
        "DATABASE_URL=postgres://user:password@127.0.0.1:5432/retention "
        "(scripts/demo sets it to an embedded PostgreSQL in var/ when it is unset)."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        f"DATABASE_URL must be a PostgreSQL URL (postgres://...); Retention runs on PostgreSQL only, "
        f"got engine {DATABASES['default']['ENGINE']!r}."
    )
# Persistent connections: 277 -> 967 requests/s on this machine (PRODUCT.md).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The pages' fixed queries (retention.compiled.CompiledQuery) are prepared once per
# connection, so PostgreSQL does not plan them on every request. Off behind a pooler
# that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "retention.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# The business time zone: "today" is its local date.
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and whitenoise serves from (bench/pages.py points it at a
# directory of its own, so a benchmark never rewrites the checkout's).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: strict by default; `manage.py check --deploy` is clean with DEBUG=false.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Email. With RESEND_API_KEY set, the outbox delivers through Resend; without it,
# through EMAIL_BACKEND (the console or file backend: development never sends).
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <hello@retention.example>")
RESEND_API_KEY = env.str("RESEND_API_KEY", default="")
# Default: the console backend without a Resend key (so nothing is sent by accident);
# SMTP (localhost:25 unless EMAIL_HOST etc. say otherwise) with one, for the few emails
# Django itself sends (admin error reports) while the outbox goes through Resend.
_email_backend = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if RESEND_API_KEY
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {  # Django 6.1's successor to EMAIL_BACKEND; the variable keeps its familiar name.
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": (
            {"file_path": env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "emails"))}
            if _email_backend.endswith("filebased.EmailBackend")
            else {}
        ),
    },
}
RESEND_API_URL = env.str("RESEND_API_URL", default="https://api.resend.com")
MARKETING_EMAIL_CAP_DAYS = env.int("MARKETING_EMAIL_CAP_DAYS", default=7)
# Emails queued by a web request are delivered after its transaction commits: on a
# background thread when true, so the response does not wait for Resend. config/wsgi.py
# turns it on for the web server; commands (whose process may exit right after) deliver inline.
EMAIL_DELIVER_IN_BACKGROUND = env.bool("EMAIL_DELIVER_IN_BACKGROUND", default=False)
# Delivery (outbox/delivery.py). Resend allows 2 requests/s per team unless raised. One
# rate for the whole deployment (outbox/ratelimit.py keeps it in the database); answers'
# ratelimit-limit lowers it, never raises it.
RESEND_REQUESTS_PER_SECOND = env.float("RESEND_REQUESTS_PER_SECOND", default=2)
RESEND_MAX_IN_FLIGHT = env.int("RESEND_MAX_IN_FLIGHT", default=4)
RESEND_TIMEOUT_SECONDS = env.float("RESEND_TIMEOUT_SECONDS", default=15)
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=100)
# A batch that meets a 5xx or a timeout is retried with the same idempotency key after
# base x 2^(attempt-1) seconds (jittered, capped), at most EMAIL_MAX_ATTEMPTS times:
# about an hour in all, well inside the 24 hours Resend remembers a key.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=12)
EMAIL_RETRY_BASE_SECONDS = env.float("EMAIL_RETRY_BASE_SECONDS", default=2)
EMAIL_RETRY_MAX_SECONDS = env.float("EMAIL_RETRY_MAX_SECONDS", default=1800)
# How long one delivery run stays for retries coming due before leaving them to the next.
EMAIL_RETRY_WAIT_SECONDS = env.float("EMAIL_RETRY_WAIT_SECONDS", default=30)

# Login throttling (django-axes, on /accounts/login/ and the admin login): the pair of
# account and client address is locked after LOGIN_FAILURE_LIMIT failures in a row,
# until LOGIN_COOLOFF_MINUTES pass without another failed try from that pair.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the login form's and admin's field (axes defaults to USERNAME_FIELD)
AXES_USERNAME_CALLABLE = "accounts.throttle.login_username"
AXES_CLIENT_IP_CALLABLE = "retention.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.locked_out"
# Axes logs its start and every successful login at INFO; failures and lockouts still log.
AXES_VERBOSE = False
# Password reset: at most this many reset emails to one account in any 24 hours, so the
# form cannot flood someone's inbox; asking again after that answers the same and sends
# nothing (accounts/forms.py).
PASSWORD_RESET_EMAILS_PER_DAY = env.int("PASSWORD_RESET_EMAILS_PER_DAY", default=5)
if PASSWORD_RESET_EMAILS_PER_DAY < 1:
    raise ImproperlyConfigured("PASSWORD_RESET_EMAILS_PER_DAY must be at least 1.")
# Proxies in front of the app that append the client's address to X-Forwarded-For
# (1 behind one TLS proxy); 0 trusts no such header and uses the connection's address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Loyalty: a provider may record an amount paid of at most this many times the job's
# list price (PRODUCT.md); staff may record any amount in admin.
MAX_AMOUNT_FACTOR = Decimal(env.str("MAX_AMOUNT_FACTOR", default="2"))
if MAX_AMOUNT_FACTOR < 1:
    raise ImproperlyConfigured("MAX_AMOUNT_FACTOR must be at least 1.")

# Scheduled jobs.
CRON_SECRET = env.str("CRON_SECRET", default="")
WINBACK_INACTIVE_DAYS = env.int("WINBACK_INACTIVE_DAYS", default=90)
if WINBACK_INACTIVE_DAYS <= 60:  # the churn stages: at risk from 60 days, inactive from here
    raise ImproperlyConfigured("WINBACK_INACTIVE_DAYS must be more than 60.")
WINBACK_COOLDOWN_DAYS = env.int("WINBACK_COOLDOWN_DAYS", default=90)
if WINBACK_COOLDOWN_DAYS < 1:  # the database allows one win-back per customer per day
    raise ImproperlyConfigured("WINBACK_COOLDOWN_DAYS must be at least 1.")
WINBACK_DISCOUNT_PERCENT = env.int("WINBACK_DISCOUNT_PERCENT", default=15)
WINBACK_CODE_VALID_DAYS = env.int("WINBACK_CODE_VALID_DAYS", default=30)
# Holdout groups (experiments): the percentage of the customers a marketing send would
# mail that is held out as a control group (0 turns it off); per send, unset = this.
HOLDOUT_PERCENT = env.int("HOLDOUT_PERCENT", default=10)
SEASONAL_HOLDOUT_PERCENT = env.int("SEASONAL_HOLDOUT_PERCENT", default=None)
WINBACK_HOLDOUT_PERCENT = env.int("WINBACK_HOLDOUT_PERCENT", default=None)
for _name in ("HOLDOUT_PERCENT", "SEASONAL_HOLDOUT_PERCENT", "WINBACK_HOLDOUT_PERCENT"):
    if globals()[_name] is not None and not 0 <= globals()[_name] <= 50:
        raise ImproperlyConfigured(f"{_name} must be between 0 and 50.")
# Referrals (PRODUCT.md "Referrals"): the invited friend's welcome discount in dollars
# off a first service, the advocate's points when that friend's first job is completed,
# and how many friends a year can earn an advocate points.
REFERRAL_FRIEND_DISCOUNT = env.int("REFERRAL_FRIEND_DISCOUNT", default=20)
REFERRAL_ADVOCATE_POINTS = env.int("REFERRAL_ADVOCATE_POINTS", default=500)
REFERRAL_MAX_PER_YEAR = env.int("REFERRAL_MAX_PER_YEAR", default=20)
if REFERRAL_FRIEND_DISCOUNT < 1 or REFERRAL_ADVOCATE_POINTS < 1 or REFERRAL_MAX_PER_YEAR < 0:
    raise ImproperlyConfigured(
        "REFERRAL_FRIEND_DISCOUNT and REFERRAL_ADVOCATE_POINTS must be at least 1, REFERRAL_MAX_PER_YEAR at least 0."
    )
# Customers per transaction in the batch jobs: each batch is a few set-based statements,
# so bigger batches mean fewer round trips and commits (1,000 measured 8% faster than
# 500 on the seasonal benchmark; a batch of 1,000 commits in about 0.1 s).
# Maintenance plans: schedule_plan_visits books each active subscription's next visit
# this many days ahead. A provider takes at most PROVIDER_JOBS_PER_DAY scheduled jobs on
# a day when plan visits are booked for them (bookings a customer makes by hand are not
# limited); a visit with no provider free on its day goes to the next day that has one,
# looking at most PLAN_PROVIDER_SEARCH_DAYS further.
PLAN_BOOK_AHEAD_DAYS = env.int("PLAN_BOOK_AHEAD_DAYS", default=14)
PROVIDER_JOBS_PER_DAY = env.int("PROVIDER_JOBS_PER_DAY", default=8)
PLAN_PROVIDER_SEARCH_DAYS = env.int("PLAN_PROVIDER_SEARCH_DAYS", default=14)
if min(PLAN_BOOK_AHEAD_DAYS, PROVIDER_JOBS_PER_DAY) < 1 or PLAN_PROVIDER_SEARCH_DAYS < 0:
    raise ImproperlyConfigured(
        "PLAN_BOOK_AHEAD_DAYS and PROVIDER_JOBS_PER_DAY must be at least 1, PLAN_PROVIDER_SEARCH_DAYS at least 0."
    )
JOB_BATCH_SIZE = env.int("JOB_BATCH_SIZE", default=1000)
if JOB_BATCH_SIZE < 1:
    raise ImproperlyConfigured("JOB_BATCH_SIZE must be at least 1.")
# refresh_recommendations drops pairs of services that fewer than this share of
# customers (with any completed job) had both of: 0.01 = 1%.
RECOMMENDATION_MIN_SUPPORT = env.float("RECOMMENDATION_MIN_SUPPORT", default=0.01)
if not 0 <= RECOMMENDATION_MIN_SUPPORT <= 1:
    raise ImproperlyConfigured("RECOMMENDATION_MIN_SUPPORT is a share of customers, from 0 to 1.")
# How long a job's run records are kept: each run deletes its own job's older ones
# (deliver_emails alone records 288 runs a day). Longer than the staff metrics' widest
# period (52 weeks), so those charts stay complete.
JOB_RUN_KEEP_DAYS = env.int("JOB_RUN_KEEP_DAYS", default=400)
if JOB_RUN_KEEP_DAYS < 1:
    raise ImproperlyConfigured("JOB_RUN_KEEP_DAYS must be at least 1.")

# The schedule, installed with `manage.py crontab add` (django-crontab). Times are UTC,
# as in the product brief: the cron daemon must run in UTC (see docs/email-and-scheduling.md).
# Each line cds to the project (settings read .env from there), runs the command through
# retention.scheduling.run_from_cron (a non-zero exit when it failed, which django-crontab
# alone would hide) and appends its output to CRON_LOG_FILE.
CRON_LOG_FILE = env.str("CRON_LOG_FILE", default=str(BASE_DIR / "var" / "log" / "cron.log"))
_cron_log = f">> {shlex.quote(CRON_LOG_FILE)} 2>&1"
# The one list of scheduled jobs: (management command, cron schedule in UTC). The cron
# lines, the /api/cron/<command-with-dashes> endpoints and the staff metrics' job list
# all come from it, so a new job is one line here.
SCHEDULED_JOBS = [
    ("send_seasonal_reminders", "0 10 * * 1"),
    ("check_service_due", "0 11 * * *"),
    ("check_inactive_customers", "0 9 * * *"),
    ("schedule_plan_visits", "0 6 * * *"),
    ("deliver_emails", "*/5 * * * *"),
    ("refresh_recommendations", "30 4 * * *"),
    # After midnight in the business time zone (03:15 EDT, 02:15 EST): yesterday is closed.
    ("refresh_metrics", "15 7 * * *"),
]
CRONJOBS = [
    (schedule, "retention.scheduling.run_from_cron", [command], {}, _cron_log)
    for command, schedule in SCHEDULED_JOBS
]
CRONTAB_COMMENT = "retention-jobs"
# The crontab program `manage.py crontab add|show|remove` runs (a name on PATH or a path).
CRONTAB_EXECUTABLE = env.str("CRONTAB_EXECUTABLE", default="/usr/bin/crontab")
CRONTAB_DJANGO_SETTINGS_MODULE = "config.settings"
CRONTAB_DJANGO_MANAGE_PATH = str(BASE_DIR / "manage.py")
CRONTAB_COMMAND_PREFIX = f"cd {shlex.quote(str(BASE_DIR))} && mkdir -p {shlex.quote(str(Path(CRON_LOG_FILE).parent))} &&"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
