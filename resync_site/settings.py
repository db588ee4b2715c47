"""Resync settings, read from the environment.

With no variables set, a fresh checkout runs as is: SQLite, the memory cache, DEBUG on
and development secrets generated once into the untracked `.resync-local.json`.
`RESYNC_ENV=production` turns DEBUG off and requires every secret from the environment.
The README lists every variable.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.core import RESERVED_ATTRS

from resync_site import local_secrets
from resync_site.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

RESYNC_ENV = env_choice("RESYNC_ENV", "development", ("development", "production"))
PRODUCTION = RESYNC_ENV == "production"

# --- Secrets --------------------------------------------------------------------------
if PRODUCTION:
    SECRET_KEY = env_required("DJANGO_SECRET_KEY", "it signs sessions and tokens")
    RESYNC_ENCRYPTION_KEYS = env_list("RESYNC_ENCRYPTION_KEYS")
    if not RESYNC_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "Set the environment variable RESYNC_ENCRYPTION_KEYS: comma-separated Fernet "
            "keys, newest first, that encrypt stored credentials"
        )
    LOCAL_SECRETS: dict[str, str] = {}
    RESYNC_ENCRYPTION_KEYS_SOURCE = "the environment"
else:
    LOCAL_SECRETS_FILE = Path(env_str("RESYNC_LOCAL_FILE", str(BASE_DIR / ".resync-local.json")))
    LOCAL_SECRETS = local_secrets.load(LOCAL_SECRETS_FILE)
    SECRET_KEY = env_str("DJANGO_SECRET_KEY") or LOCAL_SECRETS["SECRET_KEY"]
    RESYNC_ENCRYPTION_KEYS = env_list("RESYNC_ENCRYPTION_KEYS")
    RESYNC_ENCRYPTION_KEYS_SOURCE = "the environment"
    if not RESYNC_ENCRYPTION_KEYS:
        RESYNC_ENCRYPTION_KEYS = [LOCAL_SECRETS["ENCRYPTION_KEY"]]
        RESYNC_ENCRYPTION_KEYS_SOURCE = str(LOCAL_SECRETS_FILE)
# Key problems (not Fernet keys) are system check security.E001, not an import error.

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "Set the environment variable DJANGO_ALLOWED_HOSTS: the host names Resync answers to"
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- Applications ---------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "axes",
    "rest_framework_api_key",
    "apps.core",
    "apps.security",
    "apps.cache",
    "apps.monitoring",
]

MIDDLEWARE = [
    # Outermost: times everything below and counts the status the client gets (README: Metrics).
    "apps.monitoring.metrics.middleware.MetricsMiddleware",
    "apps.core.middleware.RequestIdMiddleware",
    # Outside the rest, so it sees every answer (413, 429, 503 too); it never blocks.
    "apps.monitoring.security_events.SecurityEventMiddleware",
    # Security headers (README: Security headers) on every response, the early refusals
    # (413, 503) included, and the HTTPS redirect before any work is done.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.security.headers.SecurityHeadersMiddleware",
    # Before anything that may read the database: it caps the wait for a connection.
    "apps.core.pools.unavailable.DatabaseUnavailableMiddleware",
    # Inside the database's request deadline; one audit row per POST/PUT/PATCH/DELETE.
    "apps.monitoring.audit_middleware.AuditMiddleware",
    "apps.core.api.limits.RequestBodyLimitMiddleware",
    "apps.security.client_ip.ClientIpMiddleware",
    "apps.core.config_versions.ConfigRefreshMiddleware",
    # After the config refresh (its allow-list is current, preflights included), before
    # anything that may answer on its own (a 429 from the login guard is readable too).
    "corsheaders.middleware.CorsMiddleware",
    # Early: a throttled or locked-out login is refused before sessions, CSRF or the view.
    "apps.security.login.LoginGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's messages, with the storage made only for a request that uses it.
    "apps.core.middleware.LazyMessageMiddleware",
    # django-csp's, with each header built once rather than per response.
    "apps.security.csp.CSPMiddleware",
    # Last, as django-axes requires: turns a lockout started by this request into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "resync_site.urls"
WSGI_APPLICATION = "resync_site.wsgi.application"
ASGI_APPLICATION = "resync_site.asgi.application"

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
                "apps.core.console.layout.layout",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL=postgres://... uses PostgreSQL through psycopg 3 and Django's native
# connection pool; CONN_MAX_AGE must then stay 0 (the pool owns connection lifetime). The
# backend is Django's plus a start-up probe (apps/core/db/postgresql): an unreachable
# server fails within connect_timeout with one line naming the cause, not after the pool
# timeout with a traceback.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None

if _database["ENGINE"] == "django.db.backends.postgresql":
    _database["ENGINE"] = "apps.core.db.postgresql"
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        # libpq's limit on one connection attempt; ?connect_timeout= in the URL wins.
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 3, minimum=2),
        **_database.get("OPTIONS", {}),
        "pool": {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
            "max_size": env_int("DB_POOL_MAX_SIZE", 10, minimum=1),
            "timeout": env_float("DB_POOL_TIMEOUT", 10.0, minimum=0.1),
            "max_idle": env_float("DB_POOL_MAX_IDLE", 300.0, minimum=1),
            "max_lifetime": env_float("DB_POOL_MAX_LIFETIME", 1800.0, minimum=1),
        },
    }
elif _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the sync loop write while the server reads; IMMEDIATE transactions avoid
    # "database is locked" upgrades from read to write locks.
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _database}
# The longest a request waits for a pooled connection (the pool row's connection_timeout
# still governs background work): past it, or at once while PostgreSQL is known to be
# down, the request answers 503 with Retry-After.
DB_REQUEST_TIMEOUT = env_float("DB_REQUEST_TIMEOUT", 1.0, minimum=0.1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
# The default cache is this process's sharded memory engine (apps/cache), in front of Redis
# when REDIS_URL is set (TieredCache: fails open to memory if Redis is down). These OPTIONS
# are the start-up values only: the CacheConfig row (admin, API, presets) applies live.
REDIS_URL = env_str("REDIS_URL")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "resync")
# RESYNC_API_CACHE=0 serves the plan API uncached (benchmark baseline, debugging).
API_CACHE_ENABLED = env_bool("RESYNC_API_CACHE", True)
_CACHE_ENGINE_OPTIONS = {
    "MAX_MEMORY_MB": 100,
    "MAX_ENTRIES": 100_000,
    "NUM_SHARDS": 16,
    "CLEANUP_INTERVAL": 30,
}
# django-redis pools follow the live ConnectionPoolConfig "redis" row (apps/core/pools/redis.py).
DJANGO_REDIS_CONNECTION_FACTORY = "apps.core.pools.redis.VersionedConnectionFactory"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.cache.backends.TieredCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 60,
            "OPTIONS": {
                **_CACHE_ENGINE_OPTIONS,
                "L1_LOCATION": "default",
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "apps.cache.backends.ShardedMemoryCache",
            "LOCATION": "default",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 60,
            "OPTIONS": _CACHE_ENGINE_OPTIONS,
        }
    }

# Lockout counters and rate limits must be seen by every process, so they never go through
# the tiered default cache (its memory tier is per process). "shared" is Redis itself when
# REDIS_URL is set, else a database table (created by migrate); "throttle" counts on every
# API request, so without Redis it stays in memory: one count per process, which is right for
# the embedded default's single server process (security.W010 warns otherwise).
_SHARED_KEY_PREFIX = f"{CACHE_KEY_PREFIX}-shared"  # outside the default cache's clear()
if REDIS_URL:
    _redis_shared = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": _SHARED_KEY_PREFIX,
        "TIMEOUT": 900,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
            # Redis down: lockouts and throttles fail open (logged), the API keeps serving.
            "IGNORE_EXCEPTIONS": True,
        },
    }
    CACHES["shared"] = _redis_shared
    CACHES["throttle"] = {**_redis_shared}
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "resync_shared_cache",
        "KEY_PREFIX": _SHARED_KEY_PREFIX,
        # Django's DatabaseCache rewrites an entry on incr with the default timeout (set to
        # the lockout window below): a window restarts at each failure, not the first one.
        "TIMEOUT": 900,
        # Its default (300 entries, then cull a third) would let a spray of failed logins
        # push live locks out; entries expire by themselves within the lockout window.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
    CACHES["throttle"] = {
        "BACKEND": "apps.cache.backends.ShardedMemoryCache",
        "LOCATION": "throttle",
        "KEY_PREFIX": _SHARED_KEY_PREFIX,
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_MEMORY_MB": 16, "MAX_ENTRIES": 100_000, "NUM_SHARDS": 8},
    }

# --- Authentication -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    # django-axes first: refuses a locked-out client before any password is hashed.
    "apps.security.lockout.LockoutBackend",
    "apps.security.login.AuditedModelBackend",
]

# --- Abuse protection (README: Security) ------------------------------------------------
# X-Forwarded-For is believed only from these peers (IPs or CIDRs, comma-separated).
RESYNC_TRUSTED_PROXIES = env_list("RESYNC_TRUSTED_PROXIES")
for _proxy in RESYNC_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"RESYNC_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network"
        ) from None

# Lockout (django-axes + apps/security/lockout.py): N failed logins per (username, client IP)
# or M per client IP within the window lock that pair or address for the window.
RESYNC_LOCKOUT_FAILURES = env_int("RESYNC_LOCKOUT_FAILURES", 5, minimum=1)
RESYNC_LOCKOUT_IP_FAILURES = env_int("RESYNC_LOCKOUT_IP_FAILURES", 20, minimum=1)
RESYNC_LOCKOUT_MINUTES = env_int("RESYNC_LOCKOUT_MINUTES", 15, minimum=1)
if not REDIS_URL:
    CACHES["shared"]["TIMEOUT"] = RESYNC_LOCKOUT_MINUTES * 60
RESYNC_LOCKOUT_CACHE = "shared"
# Sessions (the console, the admin): read from Redis, written through to the database, so a
# console page costs no database query for its session. Only the shared Redis alias: a
# per-process memory tier would keep serving a session another process has ended.
if REDIS_URL:
    SESSION_ENGINE = "apps.security.sessions.cached_db"
    SESSION_CACHE_ALIAS = "shared"
AXES_HANDLER = "apps.security.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = RESYNC_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=RESYNC_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "apps.security.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.security.lockout.lockout_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False  # axes' attempt tables stay empty: counters live in the cache
AXES_VERBOSE = False


def _rate(name: str, default: str) -> str | None:
    value = (env_str(name) or default).strip().lower()
    if value in ("off", "none", "0"):
        return None
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 100/min (or off), not {value!r}")
    return value


# Rate limits (apps/security/throttling.py): per client IP, user, API key, login attempts,
# plan exports.
RESYNC_THROTTLE_RATES = {
    "anon": _rate("RESYNC_THROTTLE_ANON", "300/min"),
    "user": _rate("RESYNC_THROTTLE_USER", "1200/min"),
    "api_key": _rate("RESYNC_THROTTLE_API_KEY", "1200/min"),
    "login": _rate("RESYNC_THROTTLE_LOGIN", "10/min"),
    "csp_report": _rate("RESYNC_THROTTLE_CSP_REPORT", "120/min"),
    "export": _rate("RESYNC_THROTTLE_EXPORT", "10/min"),
    # The assistant's questions and confirmations, per user and per API key (README: Assistant).
    "assistant": _rate("RESYNC_THROTTLE_ASSISTANT", "20/min"),
    "assistant_api_key": _rate("RESYNC_THROTTLE_ASSISTANT_API_KEY", "20/min"),
}
# Tokens (prompt and completion, all model calls together) one assistant question may use.
RESYNC_ASSISTANT_TOKEN_BUDGET = env_int("RESYNC_ASSISTANT_TOKEN_BUDGET", 16_000, minimum=100)
RESYNC_THROTTLE_CACHE = "throttle"

# API keys: PBKDF2 iterations of the stored hash (0 = Django's password default).
RESYNC_API_KEY_HASH_ITERATIONS = env_int("RESYNC_API_KEY_HASH_ITERATIONS", 0, minimum=0)

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
# `manage.py collectstatic` copies every static file here; production serves them from it
# through WhiteNoise (without it the admin and the API docs answer 500).
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- REST API -------------------------------------------------------------------------
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 500, minimum=1)
API_DEFAULT_PAGE_SIZE = env_int("API_DEFAULT_PAGE_SIZE", 50, minimum=1)
# Largest request body accepted (API and admin); a bigger one is a 413 problem before any
# view reads it (apps.core.api.limits). Django's default, stated here because it is documented.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MiB

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its WWW-Authenticate header turns anonymous requests into 401s.
        "apps.security.authentication.CachedUserJWTAuthentication",
        "apps.security.api_keys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.security.throttling.AnonThrottle",
        "apps.security.throttling.UserThrottle",
        "apps.security.throttling.ApiKeyThrottle",
    ],
    # Every view declares `required_permission` (apps/security/permissions.py); none: denied.
    "DEFAULT_PERMISSION_CLASSES": ["apps.security.permissions.RequiredPermission"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": API_DEFAULT_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "apps.core.api.filtering.StrictOrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Production answers JSON only: the browsable API's HTML pages are for development.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if not PRODUCTION else []),
    ],
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.openapi.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.problem_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# simplejwt does the tokens; apps/security/tokens.py adds the family claim, the `iat`
# requirement and reuse detection. Refresh tokens rotate and the used one is blacklisted
# (token_blacklist app); every token carries a fingerprint of the password hash
# (CHECK_REVOKE_TOKEN), so a password change revokes them all.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1, minimum=1)),
    "ALGORITHM": "HS256",
    "LEEWAY": env_int("JWT_LEEWAY_SECONDS", 10, minimum=0),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_TOKEN_CLASSES": ("apps.security.tokens.AccessToken",),
    "TOKEN_OBTAIN_SERIALIZER": "apps.security.api.serializers.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "apps.security.api.serializers.TokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "apps.security.api.serializers.TokenVerifySerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "apps.security.api.serializers.LogoutSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Resync API",
    "DESCRIPTION": "The HCL Workload Automation plan, mirrored: jobs, streams, workstations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Serve Swagger UI from the installed sidecar package: no CDN, CSP stays strict.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Bodies are documented as JSON: the form parsers serve the browsable API, and a form
    # cannot carry null, nesting or numbers the way the documented schemas describe them.
    "PARSER_WHITELIST": ["apps.core.api.parsers.JSONParser"],
    # Request bodies get their own components (`...Request`): required non-blank strings
    # say minLength 1 and read-only fields are left out, as the server reads them.
    "COMPONENT_SPLIT_REQUEST": True,
    # The seed's unversioned paths answer too, but only the v1 paths are documented.
    "PREPROCESSING_HOOKS": ["resync_site.seed_aliases.exclude_seed_aliases"],
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "apps.core.states.JobStatus",
        "HealthStatusEnum": ["healthy", "degraded", "unhealthy"],
    },
}

# --- Security headers and HTTPS (README: Security headers, Production) -------------------
# Django's SecurityMiddleware and XFrameOptionsMiddleware send what they have settings for;
# apps/security/headers.py adds Permissions-Policy, Cross-Origin-Resource-Policy,
# X-XSS-Protection: 0 and Cache-Control: no-store on the API.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", PRODUCTION)
# Load balancers and orchestrators probe health over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$", r"^api/health$"]  # and the seed's alias
# X-Forwarded-Proto is believed only behind a TLS proxy; resync_site/gunicorn.conf.py makes
# gunicorn follow the same switch (its default believes it from 127.0.0.1 regardless).
DJANGO_BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if DJANGO_BEHIND_TLS_PROXY else None
# /api/schema/ and /api/docs/ are open to anonymous callers in development only, unless set.
RESYNC_PUBLIC_API_DOCS = env_bool("RESYNC_PUBLIC_API_DOCS", not PRODUCTION)

# --- CORS (README: CORS) ---------------------------------------------------------------
# Allowed origins are CorsOrigin rows (admin, API), asked through django-cors-headers'
# check_request_enabled signal (apps/security/cors/allowlist.py). The environment variable
# only seeds those rows at each `migrate`; the library's own static lists stay empty
# (security.E311), or an origin disabled in the admin would stay allowed.
RESYNC_CORS_SEED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_URLS_REGEX = r"^/api/.*$"
# Sent only with the headers of an allowed origin, never to another.
CORS_ALLOW_CREDENTIALS = env_bool("CORS_ALLOW_CREDENTIALS", False)
# Browsers cache a preflight this long (s): a revoked origin's cached preflights live on
# that long (its pages still cannot read the answers).
CORS_PREFLIGHT_MAX_AGE = env_int("CORS_PREFLIGHT_MAX_AGE", 600, minimum=0)
CORS_EXPOSE_HEADERS = [
    "X-Request-ID",
    "X-Plan-Synced-At",
    "X-Plan-Sync-Status",
    "X-Resync-Cache",
    "Retry-After",
]

# Content Security Policy (django-csp, README: Security). Nothing inline runs or styles
# unless it carries the response's nonce (`request.csp_nonce`): no 'unsafe-inline' or
# 'unsafe-eval' anywhere (security.E301); templates/ moves what Swagger UI and the browsable
# API inline into static files. RESYNC_CSP_REPORT_ONLY=1 sends the same policy report-only
# (browsers report, refuse nothing). Reports go to RESYNC_CSP_REPORT_URI (empty: none), named
# for report-to by the Reporting-Endpoints header apps.security.csp.CSPMiddleware adds.
RESYNC_CSP_REPORT_ONLY = env_bool("RESYNC_CSP_REPORT_ONLY", False)
RESYNC_CSP_REPORT_URI = env_str("RESYNC_CSP_REPORT_URI", "/api/v1/security/csp-report/")
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        **(
            {"report-uri": [RESYNC_CSP_REPORT_URI], "report-to": "csp-endpoint"}
            if RESYNC_CSP_REPORT_URI
            else {}
        ),
    }
}
CONTENT_SECURITY_POLICY = None if RESYNC_CSP_REPORT_ONLY else _CSP_POLICY
CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY if RESYNC_CSP_REPORT_ONLY else None

# --- Security events (README: Security events) -----------------------------------------
# Suspicious requests, error responses and CSP reports, counted per (client IP, kind, minute)
# in memory and written every FLUSH_SECONDS. Off: the middleware is left out altogether
# (the baseline of tests.bench.security_events); the CSP report endpoint still records.
RESYNC_SECURITY_EVENTS = env_bool("RESYNC_SECURITY_EVENTS", True)
RESYNC_SECURITY_EVENTS_FLUSH_SECONDS = env_float(
    "RESYNC_SECURITY_EVENTS_FLUSH_SECONDS", 1.0, minimum=0.1
)
# Addresses each process records per minute; the others count together under "" (unknown).
RESYNC_SECURITY_EVENTS_MAX_ADDRESSES = env_int(
    "RESYNC_SECURITY_EVENTS_MAX_ADDRESSES", 1000, minimum=1
)
# 401/403/404 answers to one address within a minute (per process) that make an error burst.
RESYNC_SECURITY_EVENTS_BURST = env_int("RESYNC_SECURITY_EVENTS_BURST", 20, minimum=1)

# --- Monitoring (README: Metrics, Health) ---------------------------------------------
# GET /metrics is open to these clients (IPs or CIDRs, comma-separated) without credentials,
# besides monitoring readers (a user or an API key with the monitoring:read scope).
RESYNC_METRICS_ALLOWED_IPS = env_list("RESYNC_METRICS_ALLOWED_IPS")
for _network in RESYNC_METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"RESYNC_METRICS_ALLOWED_IPS: {_network!r} is not an IP address or network"
        ) from None
# RESYNC_HTTP_METRICS=0 leaves the per-request metrics middleware out (benchmark baseline).
if not env_bool("RESYNC_HTTP_METRICS", True):
    MIDDLEWARE.remove("apps.monitoring.metrics.middleware.MetricsMiddleware")
# Several processes share their metrics through this directory (prometheus_client reads the
# variable itself; resync_site/gunicorn.conf.py and run_embedded set it up).
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR: {PROMETHEUS_MULTIPROC_DIR!r} is not a directory "
        "(create it, or unset the variable for one process)"
    )

# --- Alerts (README: Alerts) -----------------------------------------------------------
# Seconds between evaluations of each rule (run_monitor's default --interval; sync_plan
# --loop evaluates at the same pace).
RESYNC_ALERT_INTERVAL = env_float("RESYNC_ALERT_INTERVAL", 15.0, minimum=1.0)
# Who is emailed about a rule that names no recipients (monitoring.E001 checks them).
RESYNC_ALERT_EMAIL_TO = env_list("RESYNC_ALERT_EMAIL_TO")
# Attempts per notification, the retries waiting RESYNC_ALERT_RETRY_SECONDS, then doubling.
RESYNC_ALERT_NOTIFY_ATTEMPTS = env_int("RESYNC_ALERT_NOTIFY_ATTEMPTS", 6, minimum=1)
RESYNC_ALERT_RETRY_SECONDS = env_float("RESYNC_ALERT_RETRY_SECONDS", 30.0, minimum=0.0)
# Email goes through Django's backend; in development it is printed on the console.
EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0, minimum=1.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "resync@localhost")

# --- Assistant (README: Assistant) ----------------------------------------------------
# Where a new AssistantConfig points: the bundled model simulator that `make run` starts
# (its port is the web server's plus 100). A real model is set in the admin instead.
RESYNC_LLM_URL = env_url("RESYNC_LLM_URL", "http://127.0.0.1:8100/v1")

# --- History retention ----------------------------------------------------------------
# Days each kind of history is kept; `prune_history` and the sync loop delete older rows.
RETENTION_KINDS = (
    "status_events",
    "sync_runs",
    "job_actions",
    "audit_events",
    "gone_workstations",
    "security_events",
    "conversations",
)
RESYNC_RETENTION_DAYS = env_int("RESYNC_RETENTION_DAYS", 30, minimum=1)
RESYNC_RETENTION = {
    kind: env_int(f"RESYNC_RETENTION_DAYS_{kind.upper()}", RESYNC_RETENTION_DAYS, minimum=1)
    for kind in RETENTION_KINDS
}

# --- Logging --------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, user,
# route, and extras such as duration_ms), for log shippers; plain: one readable line.
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if PRODUCTION else "plain", ("json", "plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.core.middleware.RequestIdLogFilter"},
        "database_outage": {"()": "apps.core.pools.database.OutageLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "{levelname}{name}{message}{request_id}{user}{route}",
            "style": "{",
            "timestamp": "time",
            "rename_fields": {"levelname": "level", "name": "logger"},
            # Django puts the request object on its records: its repr holds the query string.
            "reserved_attrs": [*RESERVED_ATTRS, "request", "server_time"],
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request at INFO: one line per page of a sync is noise.
    # During a database outage the breaker logs it once, not once per refused request.
    "loggers": {
        # Without Django's own console handler (DEBUG only): one line per event, in our format.
        "django": {"level": "NOTSET"},
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "django.request": {"filters": ["database_outage"]},
    },
}
