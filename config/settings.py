"""Settings for Rapport, read from the environment.

Without any environment the app runs on its embedded default: SQLite, and
Celery tasks executed in process. `config.settings_production` adds the
hardening a real deployment needs and refuses to start without a secret key.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


INSECURE_DEV_SECRET_KEY = "django-insecure-rapport-dev-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", INSECURE_DEV_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "relations",
    "accounts",
    "connections",
    "metrics",
    "networks",
    "reviews",
    "dashboards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, counting the identity provider's multi-factor sign-in (accounts.oidc).
    "accounts.oidc.OTPMiddleware",
    "accounts.security.SecondFactorRequiredMiddleware",
    "accounts.security.RefusedAccessLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A lost database connection answers 503 "temporarily unavailable", not 500.
    "config.unavailable.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relations.roles.template_context",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A read replica of PostgreSQL, when one is configured: dashboards read from it
# (config.replica routes their reads there; everything else stays on default).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    # Tests: the replica is the default test database seen through a second alias.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# JIT off: PostgreSQL compiles a query to machine code when its *estimated* cost is
# high. Rapport's queries are short; right after a bulk load, before statistics
# exist, a 100 ms page query was estimated expensive and spent 2 s compiling
# (issue #22). The full recomputation, the one long query, gains nothing from it
# either (docs/benchmarks.md).
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# django-axes first: it refuses a locked-out sign-in before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on: answers only the OpenID callback (accounts.oidc), never a password.
    "accounts.oidc.OIDCBackend",
]
# Sign-in lock-out (django-axes): five failures for one username from one address
# lock that pair for 15 minutes; a success resets the count. Locking the pair (not
# the username alone) keeps an attacker from locking a colleague out everywhere.
AXES_ENABLED = env_bool("RAPPORT_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("RAPPORT_SIGN_IN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("RAPPORT_SIGN_IN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
# The audit trail logs sign-ins; axes keeps only the failures it counts.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Two-factor (django-otp): the name authenticator apps show beside the code.
OTP_TOTP_ISSUER = "Rapport"

# Shared by every process (API throttling, sign-in lock-out counts): Redis when one
# is configured, a per-process memory cache on the embedded default.
_broker_url = os.environ.get("CELERY_BROKER_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "") or (
    _broker_url if _broker_url.startswith(("redis://", "rediss://")) else ""
)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("RAPPORT_CACHE_PREFIX", "rapport"),
            "TIMEOUT": 300,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Single sign-on with the organisation's OpenID Connect provider (docs/sso.md) ---
# Empty issuer: no single sign-on, the password form alone (as before).
RAPPORT_OIDC_ISSUER = os.environ.get("RAPPORT_OIDC_ISSUER", "").strip()
RAPPORT_OIDC_CLIENT_ID = os.environ.get("RAPPORT_OIDC_CLIENT_ID", "")
RAPPORT_OIDC_CLIENT_SECRET = os.environ.get("RAPPORT_OIDC_CLIENT_SECRET", "")
# The button reads "Sign in with <label>".
RAPPORT_OIDC_LABEL = os.environ.get("RAPPORT_OIDC_LABEL", "") or _("single sign-on")
RAPPORT_OIDC_SCOPES = os.environ.get("RAPPORT_OIDC_SCOPES", "openid email profile")
# 0: only single sign-on (the password form is neither shown nor accepted).
RAPPORT_LOCAL_LOGIN = env_bool("RAPPORT_LOCAL_LOGIN", True)
# Whether a subject the provider vouches for gets an account on first sign-in.
RAPPORT_OIDC_CREATE_USERS = env_bool("RAPPORT_OIDC_CREATE_USERS", False)
# Adopt an existing account once by a verified e-mail (off: link in the admin instead).
RAPPORT_OIDC_LINK_BY_EMAIL = env_bool("RAPPORT_OIDC_LINK_BY_EMAIL", False)
# The claim listing the person's groups (or app roles), and the names that map to
# Rapport's roles; roles are set from it at every sign-in.
RAPPORT_OIDC_GROUPS_CLAIM = os.environ.get("RAPPORT_OIDC_GROUPS_CLAIM", "groups")
RAPPORT_OIDC_MANAGER_GROUP = os.environ.get("RAPPORT_OIDC_MANAGER_GROUP", "rapport-managers")
RAPPORT_OIDC_DIRECTOR_GROUP = os.environ.get("RAPPORT_OIDC_DIRECTOR_GROUP", "rapport-directors")
# The provider's sign-in counts as the second factor when its `amr` holds one of these
# (RFC 8176 method names) or its `acr` is one of RAPPORT_OIDC_MFA_ACR.
RAPPORT_OIDC_MFA_AMR = env_list("RAPPORT_OIDC_MFA_AMR", "mfa,otp,hwk")
RAPPORT_OIDC_MFA_ACR = env_list("RAPPORT_OIDC_MFA_ACR", "")
RAPPORT_OIDC_TIMEOUT = float(os.environ.get("RAPPORT_OIDC_TIMEOUT", "10"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True
# Medium dates in both languages ("5 Dec 2026", "5 dec 2026"): config/formats/.
FORMAT_MODULE_PATH = ["config.formats"]
# The language picked with the switcher is remembered in a cookie for a year, so
# the browser keeps it across sign-outs and sessions (Django's set_language).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Currency of every monetary figure (interaction cost, outcome value, RoR totals).
RAPPORT_CURRENCY = os.environ.get("RAPPORT_CURRENCY", "EUR")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Strict policy: no inline scripts or styles; every script carries the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if RAPPORT_OIDC_ISSUER:
    # Signing out posts a form that ends at the provider's end-session endpoint: browsers
    # apply form-action to where the form's redirects lead.
    _issuer = urlsplit(RAPPORT_OIDC_ISSUER)
    SECURE_CSP["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")

# --- E-mail (review invitations) ---------------------------------------------
# Django 6.1's MAILERS, filled from the environment: EMAIL_URL
# (smtp://user:password@host:587, smtps:// for implicit TLS, ?tls=1 for STARTTLS,
# console:// or locmem:// for development) or the usual EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, EMAIL_USE_SSL variables. With
# neither (the embedded default) messages are printed on the console.
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_EMAIL_SCHEMES = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def mailer_from_url(url: str) -> dict:
    """A MAILERS entry from an EMAIL_URL (parsed here: no extra dependency)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _EMAIL_SCHEMES:
        return {"BACKEND": _EMAIL_SCHEMES[scheme]}
    if scheme not in {"smtp", "smtps", "submission"}:
        raise ValueError(f"EMAIL_URL: unknown scheme {scheme!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    use_ssl = scheme == "smtps" or query.get("ssl", "").lower() in {"1", "true", "yes"}
    use_tls = not use_ssl and (
        scheme == "submission" or query.get("tls", "").lower() in {"1", "true", "yes"}
    )
    options = {
        "host": parts.hostname or "localhost",
        "port": parts.port or (465 if use_ssl else 587 if use_tls else 25),
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_tls": use_tls,
        "use_ssl": use_ssl,
        "timeout": float(query.get("timeout", os.environ.get("EMAIL_TIMEOUT", "10"))),
    }
    return {"BACKEND": _SMTP_BACKEND, "OPTIONS": options}


def mailer_from_environment() -> dict:
    if os.environ.get("EMAIL_URL"):
        return mailer_from_url(os.environ["EMAIL_URL"])
    if os.environ.get("EMAIL_HOST"):
        return {
            "BACKEND": _SMTP_BACKEND,
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "use_ssl": env_bool("EMAIL_USE_SSL", False),
                "timeout": float(os.environ.get("EMAIL_TIMEOUT", "10")),
            },
        }
    return {"BACKEND": _EMAIL_SCHEMES["console"]}


MAILERS = {"default": mailer_from_environment()}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rapport <rapport@localhost>")
# The address the links in e-mails point at (the worker has no request to ask).
RAPPORT_BASE_URL = os.environ.get("RAPPORT_BASE_URL", "http://localhost:8000").rstrip("/")
# Review invitations: how long a link is valid, how often sending is retried.
RAPPORT_REVIEW_LINK_DAYS = int(os.environ.get("RAPPORT_REVIEW_LINK_DAYS", "14"))
RAPPORT_REVIEW_SEND_RETRIES = int(os.environ.get("RAPPORT_REVIEW_SEND_RETRIES", "5"))
# Requests to the public answer page per address and per link in ten minutes.
RAPPORT_REVIEW_PAGE_RATE = int(os.environ.get("RAPPORT_REVIEW_PAGE_RATE", "30"))

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Without a broker the same tasks run in process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Nobody waits on a task's return value (jobs record their outcome in the database).
# Storing results would make every publish talk to the result backend too, which
# retries for 20 s per request while Redis is down and stops beat for good.
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only once done, so a killed worker's task is redelivered.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Database connections outlive a task (config/celery.py): Celery's fix-up closes them
# only every this many tasks, Django's CONN_MAX_AGE and health checks do the rest.
CELERY_DB_REUSE_MAX = 10_000
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker outlives its broker: after a lost connection it reconnects for ever,
# with kombu's back-off (2 s, then 2 s more each attempt, at most 30 s apart).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task still running when the connection is lost can no longer be acknowledged:
# cancel it, so that the broker hands it out again (acks_late) instead of the
# worker finishing work it cannot report. The scores' dirty markers and the sweep
# make a cancelled or lost task harmless. kombu 5.7.0 (the newest release) can
# still crash the worker while acknowledging on a dead connection
# (AttributeError in kombu/transport/redis.py `_connparams`): every documented
# way of running Rapport restarts a worker that exits (README, "Production").
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Publishing must not hang a web request for long when Redis is down: the
# dirty marker written in the same transaction lets the sweep repair it later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    # How often a worker looks for tasks a killed worker left unacknowledged
    # (interval × throttle seconds); the fault tests make it short.
    "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
    "unacked_restore_throttle": int(os.environ.get("CELERY_UNACKED_RESTORE_THROTTLE", "10")),
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"

# The largest request body read into memory (JSON, forms; uploaded files are not
# counted): the documented 1,000-item bulk endpoint with 20,000-character notes takes
# about 20 MB of JSON. Beyond it the answer is 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("RAPPORT_MAX_REQUEST_BYTES", str(32 * 2**20)))

# --- REST framework -----------------------------------------------------------
# API throttle per token (per user for sessions); "off" disables it (fuzz runs).
API_THROTTLE_RATE = os.environ.get("RAPPORT_API_THROTTLE_RATE", "5000/hour")
REST_FRAMEWORK = {
    # Token first: its `WWW-Authenticate` header makes a missing credential a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        # Refuses a session that has not passed the second factor (directors).
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["relations.api.permissions.IsStaffMember"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "relations.api.filters.SafeSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "relations.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # JSON only: the browsable API's inline scripts do not pass the strict CSP.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit (relations.api.parsers).
    "DEFAULT_PARSER_CLASSES": ["relations.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": None
        if API_THROTTLE_RATE.lower() in {"", "off", "none", "0"}
        else API_THROTTLE_RATE
    },
    "EXCEPTION_HANDLER": "relations.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "relations.api.schema.RapportAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rapport API",
    "DESCRIPTION": (
        "Strategic relationship management: stakeholders, interactions, scores.\n\n"
        "Authenticate with `Authorization: Token <key>` (create one at `/settings/tokens/` "
        "or with `manage.py create_api_token USERNAME`) or a browser session with CSRF. "
        "What the caller may not see answers 404, what it may see but not change 403; "
        'validation errors are 400 with `{"field": ["message"]}`. '
        "POST accepts an `Idempotency-Key` header: a retry returns the first answer."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "relations.api.schema.add_links",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "InteractionKindEnum": "relations.models.Interaction.Kind",
        "OutcomeKindEnum": "relations.models.Outcome.Kind",
        "StakeholderLinkKindEnum": "relations.models.StakeholderLink.Kind",
        "CommitmentStatusEnum": "relations.models.Commitment.Status",
        "GoalStatusEnum": "relations.models.StrategicGoal.Status",
        "RelationshipStatusEnum": "relations.models.Relationship.Status",
        "ImportKindEnum": "relations.importing.models.ImportJob.Kind",
        "ImportStatusEnum": "relations.importing.models.ImportJob.Status",
    },
}
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=int(os.environ.get("RAPPORT_API_TOKEN_TTL_DAYS", "90"))),
    # Each user keeps a handful of tokens (one per integration), not thousands.
    "TOKEN_LIMIT_PER_USER": 20,
}

# --- Scores (DESIGN §3) ------------------------------------------------------
RAPPORT_SCORES = {
    "HALF_LIFE_DAYS": float(os.environ.get("RAPPORT_HALF_LIFE_DAYS", "180")),
    "ROR_WINDOW_DAYS": float(os.environ.get("RAPPORT_ROR_WINDOW_DAYS", "365")),
    "HOURLY_RATE": float(os.environ.get("RAPPORT_HOURLY_RATE", "100")),
    "TRUST_WEIGHTS": {"reliability": 0.4, "sentiment": 0.3, "reciprocity": 0.3},
    "KIND_WEIGHTS": {
        "meeting": 1.0,
        "video_call": 0.8,
        "call": 0.6,
        "introduction": 0.6,
        "event": 0.5,
        "email": 0.3,
        "message": 0.2,
        "other": 0.3,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # axes logs every sign-in at INFO; the audit trail records them already.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# --- Score recomputation schedule (DESIGN §5; metrics.tasks) -------------------
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    # Repairs changes whose task was lost (broker down, worker killed).
    "scores-sweep-pending": {
        "task": "metrics.tasks.sweep_pending",
        "schedule": float(os.environ.get("RAPPORT_SWEEP_INTERVAL_SECONDS", "60")),
    },
    # Decay for everyone and the day's snapshots, after midnight UTC.
    "scores-nightly-refresh": {
        "task": "metrics.tasks.nightly_refresh",
        "schedule": crontab(hour=0, minute=15),
    },
    # The network from the refreshed strengths, and the day's health snapshot.
    "network-nightly": {
        "task": "networks.tasks.network_nightly",
        "schedule": crontab(hour=0, minute=45),
    },
    "webhooks-sweep": {"task": "relations.tasks.webhook_sweep", "schedule": 120.0},
    # Imports whose task or worker was lost are queued again (RAPPORT_IMPORT_STALE_SECONDS).
    "imports-sweep-stale": {
        "task": "relations.importing.tasks.import_sweep_stale",
        "schedule": 300.0,
    },
    # Stored import files dropped after their undo window (RAPPORT_IMPORT_FILE_RETENTION_DAYS).
    "imports-files-expire": {
        "task": "relations.importing.tasks.import_files_expire",
        "schedule": crontab(hour=2, minute=15),
    },
    # Data protection: stale stakeholders flagged for a director's review.
    "privacy-retention-flag": {
        "task": "relations.tasks.retention_flag_stale",
        "schedule": crontab(hour=2, minute=30),
    },
    # Reviews falling due are scheduled, links past their date expire (reviews.tasks).
    "reviews-schedule": {
        "task": "reviews.tasks.reviews_schedule",
        "schedule": crontab(hour=3, minute=0),
    },
    # Calendar feeds fetched again every night: new meetings become interactions.
    "calendar-feeds-refresh": {
        "task": "relations.tasks.calendar_feeds_refresh",
        "schedule": crontab(hour=1, minute=30),
    },
    # Connected accounts whose next sync is due (each every 5 minutes by default).
    "connections-sync-due": {"task": "connections.tasks.sync_due", "schedule": 60.0},
}
# GDPR retention: a stakeholder is flagged for review this many days after the last
# contact (or their creation, or the last review that kept them). Default three years.
RAPPORT_RETENTION_DAYS = int(os.environ.get("RAPPORT_RETENTION_DAYS", str(3 * 365)))
# The controller named in the record of processing (GDPR Art. 30).
RAPPORT_CONTROLLER = os.environ.get("RAPPORT_CONTROLLER", "")
# Heavy graph work has its own queue, served by a worker with concurrency 1, so
# it never holds up score recomputation or webhook deliveries.
CELERY_TASK_ROUTES = {"networks.tasks.*": {"queue": "graph"}}
# At most one network computation every this many seconds after changes.
RAPPORT_NETWORK_DEBOUNCE_SECONDS = int(os.environ.get("RAPPORT_NETWORK_DEBOUNCE_SECONDS", "120"))
# Sampled betweenness sources; empty = chosen from the graph size (networks.graph.betweenness_k).
RAPPORT_BETWEENNESS_K = (
    int(os.environ["RAPPORT_BETWEENNESS_K"]) if os.environ.get("RAPPORT_BETWEENNESS_K") else None
)
# Processes the graph worker forks for betweenness (its solo pool allows it);
# a daemonic process (a prefork pool child) falls back to one.
RAPPORT_BETWEENNESS_PROCESSES = int(
    os.environ.get("RAPPORT_BETWEENNESS_PROCESSES", str(min(2, os.cpu_count() or 1)))
)
RAPPORT_ALLOW_PRIVATE_DESTINATIONS = env_bool("RAPPORT_ALLOW_PRIVATE_DESTINATIONS", False)

# --- Connected accounts (connections) ----------------------------------------------
# Fernet key(s) encrypting the accounts' passwords, comma-separated (the first encrypts;
# every one decrypts, for rotation). Empty: a key derived from SECRET_KEY (the embedded
# default); `check --deploy` warns (connections.W001).
RAPPORT_ENCRYPTION_KEY = os.environ.get("RAPPORT_ENCRYPTION_KEY", "")
# Mail to more people than this is a circular, not a conversation: never logged.
RAPPORT_CONNECTIONS_MAX_RECIPIENTS = int(os.environ.get("RAPPORT_CONNECTIONS_MAX_RECIPIENTS", "15"))
# Messages fetched and recorded per batch of a sync (progress and resume points).
RAPPORT_CONNECTIONS_BATCH = int(os.environ.get("RAPPORT_CONNECTIONS_BATCH", "500"))
# Seconds a mail server may take to answer.
RAPPORT_CONNECTIONS_TIMEOUT = float(os.environ.get("RAPPORT_CONNECTIONS_TIMEOUT", "30"))

# Benchmark-only views and a middleware reporting each response's query count and
# server time (`make bench`); never enable in production.
# The hot API reads are prepared on PostgreSQL's sessions (relations.api.prepared); off
# behind a proxy that pools transactions and does not keep prepared statements.
RAPPORT_PREPARED_STATEMENTS = env_bool("RAPPORT_PREPARED_STATEMENTS", True)

RAPPORT_BENCH_VIEWS = env_bool("RAPPORT_BENCH_VIEWS", False)
if RAPPORT_BENCH_VIEWS:
    MIDDLEWARE.insert(0, "demo.bench.middleware.BenchTimingMiddleware")


# --- Imports (relations.importing) -----------------------------------------
# Largest accepted upload (bytes): 100,000 stakeholder rows take about 10 MB.
RAPPORT_IMPORT_MAX_BYTES = int(os.environ.get("RAPPORT_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
RAPPORT_IMPORT_MAX_ROWS = int(os.environ.get("RAPPORT_IMPORT_MAX_ROWS", "200000"))
# Bad rows and matches listed in an import's report (the counts stay exact).
RAPPORT_IMPORT_REPORT_LIMIT = int(os.environ.get("RAPPORT_IMPORT_REPORT_LIMIT", "1000"))
# A run reports progress after every batch of 2,000 rows (about a second); a queued or
# running job silent for this long has lost its task or worker and is queued again
# (generous, so that a job waiting behind a busy queue is not counted as lost).
RAPPORT_IMPORT_STALE_SECONDS = int(os.environ.get("RAPPORT_IMPORT_STALE_SECONDS", "600"))
# Without a broker, imports (and their undo) run in a thread of the web process, so the
# request that starts one returns at once and its page shows the progress; 0 runs them
# inside the request instead (the test suite's default: results are there on return).
RAPPORT_EMBEDDED_BACKGROUND = os.environ.get("RAPPORT_EMBEDDED_BACKGROUND", "1") == "1"
# After this many times queued, a job that still does not finish is marked failed.
RAPPORT_IMPORT_MAX_ATTEMPTS = int(os.environ.get("RAPPORT_IMPORT_MAX_ATTEMPTS", "3"))
# Uploaded files are personal data: each import's stored file is deleted this many days
# after the import finished (or was uploaded and never started). Undo keeps working: it
# needs only what the run recorded.
RAPPORT_IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("RAPPORT_IMPORT_FILE_RETENTION_DAYS", "30"))

# Capture of calendars and e-mail: the largest file or message accepted,
# the outbound fetch of calendar feeds, and how far back recurring events are expanded.
RAPPORT_CAPTURE_MAX_BYTES = int(os.environ.get("RAPPORT_CAPTURE_MAX_BYTES", str(5 * 1024 * 1024)))
RAPPORT_CAPTURE_FETCH_TIMEOUT = float(os.environ.get("RAPPORT_CAPTURE_FETCH_TIMEOUT", "10"))
RAPPORT_CAPTURE_RECURRENCE_DAYS = int(os.environ.get("RAPPORT_CAPTURE_RECURRENCE_DAYS", "365"))
