"""System checks for the connection pools (`manage.py check`; `check --database default`
also asks PostgreSQL for its max_connections)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections

from apps.core.selectors.pools import pool_config_get
from resync_site.env import env_int
from resync_site.serving import server_threads, server_workers

DEFAULT_DB_MAX_CONNECTIONS = 100
# Connections PostgreSQL keeps for superusers, plus psql/migrations/the sync loop.
RESERVED_CONNECTIONS = 5

POOL_TOO_BIG = (
    "The database pool can open {total} connections ({max_size} per process x {workers} "
    "processes), more than PostgreSQL's max_connections={limit} leaves ({usable})."
)
POOL_TOO_BIG_HINT = (
    "Lower max_size (admin, PUT /api/v1/config/pools/database/ or DB_POOL_MAX_SIZE) or "
    "WEB_CONCURRENCY, or raise max_connections (DB_MAX_CONNECTIONS tells this check)."
)
THREADS_ABOVE_POOL = (
    "Each server process runs {threads} threads (RESYNC_SERVER_THREADS) but its database "
    "pool holds {max_size} connections: under load the extra threads wait for a connection "
    "and answer 503 after DB_REQUEST_TIMEOUT."
)
THREADS_ABOVE_POOL_HINT = "Lower RESYNC_SERVER_THREADS or raise the pool's max_size."
MIN_ABOVE_MAX = "DB_POOL_MIN_SIZE ({min}) is above DB_POOL_MAX_SIZE ({max})."
CONN_MAX_AGE_WITH_POOL = "CONN_MAX_AGE is {age} but the database uses a connection pool."
LIFETIME_NOT_ABOVE_IDLE = (
    "DB_POOL_MAX_LIFETIME ({life} s) is not above DB_POOL_MAX_IDLE ({idle} s)."
)


def _database_settings() -> dict:
    return settings.DATABASES["default"]


def _pool_options() -> dict:
    options = _database_settings().get("OPTIONS", {}).get("pool")
    return options if isinstance(options, dict) else ({} if not options else {"on": True})


def _budget_warning(max_size: int, limit: int) -> list[Warning]:
    workers = server_workers()
    usable = limit - RESERVED_CONNECTIONS
    total = max_size * workers
    if total <= usable:
        return []
    message = POOL_TOO_BIG.format(
        total=total, max_size=max_size, workers=workers, limit=limit, usable=usable
    )
    return [Warning(message, hint=POOL_TOO_BIG_HINT, id="core.W001")]


@register()
def pool_settings_check(app_configs=None, **kwargs) -> list:
    """Start-up pool values from the environment (no database access)."""
    options = _pool_options()
    if not options:
        return []
    problems: list = []
    database = _database_settings()
    if database.get("CONN_MAX_AGE", 0) != 0:
        problems.append(
            Error(
                CONN_MAX_AGE_WITH_POOL.format(age=database["CONN_MAX_AGE"]),
                hint="Set CONN_MAX_AGE to 0: the pool owns connection lifetime.",
                id="core.E001",
            )
        )
    low, high = options.get("min_size", 0), options.get("max_size", 0)
    if high and low > high:
        problems.append(
            Error(
                MIN_ABOVE_MAX.format(min=low, max=high),
                hint="Lower DB_POOL_MIN_SIZE or raise DB_POOL_MAX_SIZE.",
                id="core.E002",
            )
        )
    idle, life = options.get("max_idle"), options.get("max_lifetime")
    if idle and life and life <= idle:
        problems.append(
            Warning(
                LIFETIME_NOT_ABOVE_IDLE.format(life=life, idle=idle),
                hint="Connections would be replaced before they could ever idle out.",
                id="core.W002",
            )
        )
    if high:
        limit = env_int("DB_MAX_CONNECTIONS", DEFAULT_DB_MAX_CONNECTIONS, minimum=1)
        problems += _budget_warning(high, limit)
        problems += _threads_warning(high)
    return problems


def _threads_warning(max_size: int) -> list[Warning]:
    threads = server_threads()
    if threads <= max_size:
        return []
    message = THREADS_ABOVE_POOL.format(threads=threads, max_size=max_size)
    return [Warning(message, hint=THREADS_ABOVE_POOL_HINT, id="core.W004")]


@register(Tags.database)
def pool_budget_check(app_configs=None, databases=None, **kwargs) -> list:
    """The saved database pool max_size against the server's real max_connections."""
    if not databases or "default" not in databases or not _pool_options():
        return []
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SHOW max_connections")
            limit = int(cursor.fetchone()[0])
        max_size = pool_config_get(name="database").max_size
    except DatabaseError:  # unreachable or not migrated: the env check still ran
        return []
    return [Warning(w.msg, hint=w.hint, id="core.W003") for w in _budget_warning(max_size, limit)]
