"""Resync settings, read from the environment.

With no variables set, a fresh checkout runs as is: SQLite, the memory cache, DEBUG on
and development secrets generated once into the untracked `.resync-local.json`.
`RESYNC_ENV=production` turns DEBUG off and requires every secret from the environment.
The README lists every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from resync_site import local_secrets
from resync_site.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_required,
    env_str,
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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "apps.core",
    "apps.security",
    "apps.cache",
    "apps.monitoring",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "apps.core.config_versions.ConfigRefreshMiddleware",
    "apps.core.pools.exhaustion.PoolExhaustionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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

# --- Authentication -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its WWW-Authenticate header turns anonymous requests into 401s.
        "apps.security.authentication.CachedUserJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StrictPageNumberPagination",
    "PAGE_SIZE": API_DEFAULT_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "apps.core.api.filtering.StrictOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.problem_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 1, minimum=1)),
    "UPDATE_LAST_LOGIN": False,
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
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "apps.core.states.JobStatus",
        "HealthStatusEnum": ["healthy", "degraded", "unhealthy"],
    },
}

# --- Security headers -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_TLS_PROXY", False) else None
)
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Swagger UI and the admin set inline style attributes.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.core.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request at INFO: one line per page of a sync is noise.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
