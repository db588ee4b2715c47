"""The session engine with Redis (SESSION_ENGINE): Django's cached_db, its cache found late.

Django's cached_db store looks its cache alias up when the store is made, on every request:
the JWT and API-key requests that never read a session too (an asgiref Local lookup, ~2 %
of a cached plan read in issue 12's profile). This store looks it up on first use.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from django.utils.functional import cached_property


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key: str | None = None) -> None:
        # cached_db's __init__ only sets `_cache`, then calls the database store's.
        super(cached_db.SessionStore, self).__init__(session_key)

    @cached_property
    def _cache(self):
        return caches[settings.SESSION_CACHE_ALIAS]
