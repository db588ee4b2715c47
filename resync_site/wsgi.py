"""WSGI entry point for production servers (granian, gunicorn) and runserver."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application does

from resync_site.handler import ResyncWSGIHandler  # noqa: E402  (after setup: loads middleware)

application = ResyncWSGIHandler()
