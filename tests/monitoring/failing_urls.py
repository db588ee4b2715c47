"""A URL configuration with a view that fails, for the server-error security event."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("boom/", lambda request: HttpResponse("upstream down", status=502))]
