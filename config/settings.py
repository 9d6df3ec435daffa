"""Empower settings: everything comes from the environment (or a `.env` file beside manage.py)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-not-secret"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Secure by default once DEBUG is off; each may be turned off for plain http on loopback.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS: browsers keep to https for this long (a year by default once DEBUG is off; 0 turns it off).
# Subdomains and the browsers' preload list are each an operator's commitment beyond this site, so
# they are options; left off, Django's reminders of them (W005, W021) are silenced below on purpose.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
# A load balancer checks /healthz/ over plain http: it is not redirected to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
# /healthz/ tells monitoring clients the routing backlog (the others get up/down only): those that
# send `Authorization: Bearer <HEALTHZ_TOKEN>`, or connect from an address in HEALTHZ_ALLOWED_IPS.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")
HEALTHZ_ALLOWED_IPS = env.list("HEALTHZ_ALLOWED_IPS", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    # Names of decision types, roles and teams in every language (before the admin, as it asks).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "empower",
    "delegation",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "empower.middleware.PrivateResponsesMiddleware",
    "empower.middleware.DatabaseBusyMiddleware",
    "empower.middleware.EmployeeLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last: the product's 404 page under DEBUG too, in the reader's language (see its docstring).
    "empower.middleware.StyledNotFoundMiddleware",
]

# Login protection (django-axes), for the login page, the API's token endpoint and admin alike:
# too many wrong passwords for one username from one address lock that pair out for a while;
# other people, and the same person elsewhere, can still log in.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "empower.views.login_locked_out"

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "empower.context_processors.employee",
            ],
        },
    }
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATA_DIR.mkdir(exist_ok=True)
# An empty DATABASE_URL (`DATABASE_URL= make run`) means the embedded default, as an absent one does.
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{DATA_DIR / 'empower.sqlite3'}"),
}
# Cross-process tests (a real Celery worker) need an on-disk SQLite test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test{env.str('TEST_DB_SUFFIX', default='')}.sqlite3")}
    # IMMEDIATE takes the write lock when a transaction starts: SQLite's stand-in for row locks,
    # so caps also hold under concurrency on the embedded default.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
# Keep connections: a new PostgreSQL connection per request costs about as much as the whole decision.
# Each is checked before its first use in a request (or a task: config/celery.py) and replaced when broken.
# CONN_MAX_AGE=0 opens one per request again.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The decision path's hot statements are planned once per PostgreSQL session (`empower.prepared`).
# Off behind a pooler in transaction mode (PgBouncer's), which does not keep a client on one session.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds what every process must agree on: the API's per-address throttle counts, and the
# cached authority data, trusted only as long as its version (bumped on every change, see
# delegation.models) is. The embedded default is a directory under .data/, shared by the processes
# of this machine (web, worker, beat); production sets a Redis URL. A process's own memory (locmem)
# is only for a single process: several web nodes must share one cache, or each counts alone and a
# client gets WEB_NODES times its budget. WEB_NODES is how many web processes serve the site, over all machines: each
# gunicorn worker keeps its own memory, so `gunicorn --workers 5` on one machine is five.
# (django-axes keeps login failures in the database, shared already.)
WEB_NODES = env.int("WEB_NODES", default=1)
CACHE_URL = env.str("CACHE_URL", default="") or f"filecache://{DATA_DIR / 'cache'}"
_cache_scheme = CACHE_URL.split("://")[0]
try:
    # Django's own Redis cache (redis-py) for redis:// URLs, even if django-redis is installed one
    # day: django-environ would switch to that, and it reads its options differently.
    _cache = env.cache_url_config(
        CACHE_URL,
        backend="django.core.cache.backends.redis.RedisCache" if _cache_scheme.startswith("redis") else None,
    )
except ImproperlyConfigured as error:
    raise ImproperlyConfigured(f"CACHE_URL is not a cache URL Empower knows ({error}).") from error
if _cache_scheme.startswith("redis"):
    # django-environ lower-cases every query option for this backend, TIMEOUT and KEY_PREFIX too.
    for _name in ("timeout", "key_prefix", "version"):
        if _name in _cache:
            _cache[_name.upper()] = _cache.pop(_name)
    # As with the broker: a Redis that is down fails a request in half a second, never hangs it.
    _cache["OPTIONS"] = {"socket_connect_timeout": 0.4, "socket_timeout": 0.5, **_cache.get("OPTIONS", {})}
if WEB_NODES < 1:
    raise ImproperlyConfigured("WEB_NODES must be at least 1.")
if WEB_NODES > 1 and _cache["BACKEND"].rsplit(".", 2)[-2] in ("locmem", "dummy"):
    raise ImproperlyConfigured(
        f"WEB_NODES is {WEB_NODES} but CACHE_URL ({_cache_scheme}://) is a cache of each process's "
        "own: throttles would count per process. Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/1."
    )
CACHES = {"default": _cache}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("is", _("Icelandic")),
    ("zh-hans", _("Simplified Chinese")),
    ("ru", _("Russian")),
    ("pl", _("Polish")),
]
# Our own strings (makemessages writes the first); then third-party apps' strings they ship no
# translation for (Django REST framework has no Icelandic).
# Data in five languages: decision-type names and descriptions, role and team names get a column per
# language (`name_en`, `name_pl`, …; django-modeltranslation); an empty one falls back to English.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = tuple(code for code, _name in LANGUAGES)
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "vendor_locale"]
USE_I18N = True
# One date and time style per language (config/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")  # the organization's time zone: caps count in it

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# EMAIL_BACKEND (a dotted path), when set, overrides the backend EMAIL_URL names.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or EMAIL_CONFIG["EMAIL_BACKEND"]
# E-mail is sent by workers, never in a request; still, a hung SMTP server must not hold a worker.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[Empower] ")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="empower@localhost")
ADMINS = [("Empower administrators", a) for a in env.list("ADMIN_EMAILS", default=[])]
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The organization the customer's pages speak for: its name, and its logo as a static file path
# (served from this site, e.g. "feedback/logo.svg"; nothing loads from another host).
EMPOWER_ORGANIZATION_NAME = env.str("EMPOWER_ORGANIZATION_NAME", default="Empower")
EMPOWER_ORGANIZATION_LOGO = env.str("EMPOWER_ORGANIZATION_LOGO", default="feedback/logo.svg")
# Password reset requests allowed an hour from one address, and for one e-mail address.
EMPOWER_PASSWORD_RESET_PER_HOUR = env.int("EMPOWER_PASSWORD_RESET_PER_HOUR", default=5)

# Working hours for escalation deadlines, in TIME_ZONE: days are ISO weekdays (1 = Monday).
# Hours are whole hours from 0 to 24 (24 is the end of the day). A bad value stops start-up here,
# instead of failing (or looping forever) in the first deadline computed.
try:
    EMPOWER_WORK_DAYS = sorted(set(env.list("EMPOWER_WORK_DAYS", cast=int, default=[1, 2, 3, 4, 5])))
    EMPOWER_WORK_HOURS = tuple(env.list("EMPOWER_WORK_HOURS", cast=int, default=[9, 17]))
except ValueError as error:
    raise ImproperlyConfigured(
        f"EMPOWER_WORK_DAYS and EMPOWER_WORK_HOURS are whole numbers separated by commas ({error})."
    ) from error
if not EMPOWER_WORK_DAYS or not all(1 <= day <= 7 for day in EMPOWER_WORK_DAYS):
    raise ImproperlyConfigured("EMPOWER_WORK_DAYS must list ISO weekdays, 1 (Monday) to 7 (Sunday), e.g. 1,2,3,4,5.")
if len(EMPOWER_WORK_HOURS) != 2 or not 0 <= EMPOWER_WORK_HOURS[0] < EMPOWER_WORK_HOURS[1] <= 24:
    raise ImproperlyConfigured("EMPOWER_WORK_HOURS must be two hours from 0 to 24, start before end, e.g. 9,17.")

# How long an escalation may wait in "routing" before the periodic sweep routes it again.
EMPOWER_ROUTING_GRACE_SECONDS = env.int("EMPOWER_ROUTING_GRACE_SECONDS", default=120)

# Splitting: several decisions of one type for one customer by one employee within this many minutes,
# together above their per-decision limit, are flagged to their manager (never blocked).
EMPOWER_SPLIT_WINDOW_MINUTES = env.int("EMPOWER_SPLIT_WINDOW_MINUTES", default=60)
if EMPOWER_SPLIT_WINDOW_MINUTES < 1:
    raise ImproperlyConfigured("EMPOWER_SPLIT_WINDOW_MINUTES must be at least 1.")

# The organization's currency: every amount is a Decimal in it.
EMPOWER_CURRENCY = env.str("EMPOWER_CURRENCY", default="EUR")
# Recognition: stories never show a customer's name; with this on, their first name at most.
EMPOWER_STORIES_CUSTOMER_FIRST_NAME = env.bool("EMPOWER_STORIES_CUSTOMER_FIRST_NAME", default=False)
# "You said, we did": an accepted friction report with no change named after this many days is
# "promised, not yet done".
EMPOWER_PROMISE_DAYS = env.int("EMPOWER_PROMISE_DAYS", default=14)

# The feedback loop: days a survey link works after its last news, calendar hours a follow-up may
# wait before it moves up, working hours a manager has to answer a friction report.
FEEDBACK_SURVEY_DAYS = env.int("FEEDBACK_SURVEY_DAYS", default=30)
FEEDBACK_FOLLOW_UP_HOURS = env.int("FEEDBACK_FOLLOW_UP_HOURS", default=48)
FEEDBACK_REPORT_WORKING_HOURS = env.int("FEEDBACK_REPORT_WORKING_HOURS", default=16)
# The cockpit's period totals and time histograms are added up again at most this often (minutes;
# the day summaries follow every minute). 0: at every refresh.
COCKPIT_ROLLUP_MINUTES = env.int("COCKPIT_ROLLUP_MINUTES", default=10)
# The managers' lists of track records are counted again this often (minutes); each person's own
# record is always counted live.
COCKPIT_TRACK_RECORD_MINUTES = env.int("COCKPIT_TRACK_RECORD_MINUTES", default=10)
# The cockpit's limit recommendations: at least this many escalations in 90 days that broke only the
# per-decision limit, and at least this share of the answered ones approved exactly as asked.
EMPOWER_RECOMMEND_MIN_ESCALATIONS = env.int("EMPOWER_RECOMMEND_MIN_ESCALATIONS", default=20)
EMPOWER_RECOMMEND_SHARE = env.float("EMPOWER_RECOMMEND_SHARE", default=0.95)
if EMPOWER_RECOMMEND_MIN_ESCALATIONS < 1 or not 0 < EMPOWER_RECOMMEND_SHARE <= 1:
    raise ImproperlyConfigured(
        "EMPOWER_RECOMMEND_MIN_ESCALATIONS must be at least 1 and EMPOWER_RECOMMEND_SHARE above 0 and at most 1."
    )
if COCKPIT_TRACK_RECORD_MINUTES < 1:
    raise ImproperlyConfigured("COCKPIT_TRACK_RECORD_MINUTES must be at least 1.")
if min(FEEDBACK_SURVEY_DAYS, FEEDBACK_FOLLOW_UP_HOURS, FEEDBACK_REPORT_WORKING_HOURS) < 1:
    raise ImproperlyConfigured(
        "FEEDBACK_SURVEY_DAYS, FEEDBACK_FOLLOW_UP_HOURS and FEEDBACK_REPORT_WORKING_HOURS must be at least 1."
    )

# Services that lock rows try again this many times after a deadlock or serialization failure, then
# answer 503 with Retry-After (empower.db_retry).
DB_RETRY_ATTEMPTS = env.int("DB_RETRY_ATTEMPTS", default=3)

# API tokens live this many days (each `POST /api/v1/auth/token/` issues a new one; see empower.tokens).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
if API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("API_TOKEN_DAYS must be at least 1.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "empower.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["empower.filtering.FilterBackend"],  # django-filter's, refusing empty values
    # Every list answers pages: {"count", "next", "previous", "results"}; ?page=2, ?page_size= (at most 500).
    "DEFAULT_PAGINATION_CLASS": "empower.pagination.Pagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "empower.api_errors.exception_handler",
    # The API reads and answers JSON only: every body it takes is a JSON object (nested at most
    # empower.parsers.MAX_DEPTH levels), so the schema advertises no form encodings it cannot carry.
    "DEFAULT_PARSER_CLASSES": ["empower.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute"},
    # Proxies in front of the app whose X-Forwarded-For the per-address throttle trusts; 0: the
    # connection's own address (REMOTE_ADDR), so a client cannot pick its address in a header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Empower API",
    "DESCRIPTION": "Decide for the customer at the edge; escalate only what goes beyond authority.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The answers every operation of a kind can give (413 for a body, 404 for a page past the last, …).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "empower.schema.add_error_answers",
    ],
    # Several models have a `status`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "empower.models.Case.Status",
        "DecisionStatusEnum": "delegation.models.Decision.Status",
        "EscalationStatusEnum": "delegation.models.Escalation.Status",
        "FollowUpStatusEnum": "feedback.models.FollowUp.Status",
        "FrictionReportStatusEnum": "feedback.models.FrictionReport.Status",
    },
    # No online validator badge: the docs page loads nothing from another host.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Celery: an embedded filesystem broker by default, Redis when CELERY_BROKER_URL says so.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("out", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
else:
    # Never let a web request hang on a broker that is down or drops packets: one attempt, and
    # connecting or any command gives up within half a second; the sweep routes what was left.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 0.4,
        "socket_timeout": 0.5,
        "max_retries": 0,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 0.4
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sweep-unrouted-escalations": {
        "task": "delegation.tasks.sweep_unrouted_escalations",
        "schedule": 60.0,
    },
    "move-up-overdue-escalations": {
        "task": "delegation.tasks.review_assigned_escalations",
        "schedule": 60.0,
    },
    "announce-authority-changes": {
        "task": "delegation.tasks.announce_authority_changes",
        "schedule": 60.0,
    },
    "detect-splitting": {
        "task": "delegation.tasks.detect_splitting",
        "schedule": 60.0,
    },
    "worker-heartbeat": {
        "task": "delegation.tasks.heartbeat",
        "schedule": 30.0,
    },
    "send-unsent-emails-again": {
        "task": "empower.tasks.send_unsent_emails_again",
        "schedule": 120.0,
    },
    "move-up-overdue-follow-ups": {
        "task": "feedback.tasks.move_overdue_follow_ups",
        "schedule": 60.0,
    },
    "move-up-overdue-friction-reports": {
        "task": "feedback.tasks.move_overdue_friction_reports",
        "schedule": 300.0,
    },
    # Hourly: the first run of each ISO week sends each team's digest of stories, once (audit_once).
    "send-weekly-story-digests": {
        "task": "feedback.tasks.send_story_digests",
        "schedule": 3600.0,
    },
    # The cockpit's summaries: the days whose decisions or escalations changed since the last run.
    "refresh-cockpit-summaries": {
        "task": "feedback.cockpit.tasks.refresh_cockpit_summaries",
        "schedule": 60.0,
    },
    # The managers' lists of track records: every employee's record of each period, recounted.
    "refresh-track-records": {
        "task": "feedback.cockpit.tasks.refresh_track_records",
        "schedule": COCKPIT_TRACK_RECORD_MINUTES * 60.0,
    },
    "refresh-limit-recommendations": {
        "task": "feedback.tasks.refresh_limit_recommendations",
        "schedule": 6 * 3600.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Content Security Policy: nothing loads from another host, no inline scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
