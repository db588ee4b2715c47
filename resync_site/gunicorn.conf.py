"""gunicorn settings for Resync: `gunicorn -c resync_site/gunicorn.conf.py` (README: Production).

The command line wins over this file; bind, workers (WEB_CONCURRENCY) and threads are
usually given there.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # gunicorn runs this file alone

from resync_site.env import env_bool, env_list

wsgi_app = "resync_site.wsgi:application"
worker_class = "gthread"
threads = 4

# gunicorn takes X-Forwarded-Proto (and its other "secure scheme" headers) as proof of HTTPS
# from the addresses in forwarded_allow_ips, by default 127.0.0.1 whatever Django is told, so
# any local process could pass a plain-HTTP request off as HTTPS. Here it follows Django's
# switch: believed only when DJANGO_BEHIND_TLS_PROXY is on, and then only from
# RESYNC_TRUSTED_PROXIES (default: this host, where a local proxy connects from).
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    forwarded_allow_ips = ",".join(env_list("RESYNC_TRUSTED_PROXIES")) or "127.0.0.1,::1"
else:
    forwarded_allow_ips = ""

# gunicorn always sends "Server: gunicorn" (no version since 20.1) and has no setting to
# change or drop it; the TLS proxy in front can (README: Production).
