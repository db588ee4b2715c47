"""Resync's URLs plus two reference views for the served benchmarks (tests/bench/settings.py).

- ``/bench/plain/``: a plain Django view through the whole middleware stack;
- ``/bench/drf/``: a trivial DRF view with no authentication, no permission and no throttle,
  the fixed cost DRF adds; issue 12's target is a cached plan read costing no more.
"""

from django.http import HttpResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from resync_site.urls import urlpatterns as resync_urlpatterns


def plain(request):
    return HttpResponse(b'{"ok": true}', content_type="application/json")


class TrivialView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/plain/", plain),
    path("bench/drf/", TrivialView.as_view()),
    *resync_urlpatterns,
]
