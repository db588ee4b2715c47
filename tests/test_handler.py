"""The WSGI handler remembers how fixed routes resolve (resync_site/handler.py)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.test import RequestFactory, override_settings
from django.urls import Resolver404, get_resolver, path, resolve

from resync_site import handler
from resync_site.handler import ResyncWSGIHandler


def _remembered() -> dict:
    return get_resolver().__dict__.get("_resync_routes", {})


def _call(application, route: str) -> tuple[int, bytes]:
    environ = RequestFactory()._base_environ(PATH_INFO=route, HTTP_ACCEPT="application/json")
    environ["wsgi.input"], environ["wsgi.errors"] = io.BytesIO(b""), sys.stderr
    status = []
    body = application(environ, lambda s, h, exc=None: status.append(s))
    content = b"".join(body)
    body.close()
    return int(status[0].split()[0]), content


@pytest.fixture
def app() -> ResyncWSGIHandler:
    get_resolver().__dict__.pop("_resync_routes", None)
    return ResyncWSGIHandler()


@pytest.mark.django_db
def test_a_fixed_route_resolves_once_and_answers_the_same(app):
    first = _call(app, "/api/v1/health/live/")
    assert "/api/v1/health/live/" in _remembered()
    second = _call(app, "/api/v1/health/live/")
    assert first[0] == second[0] == 200
    assert json.loads(first[1])["status"] == json.loads(second[1])["status"]


@pytest.mark.parametrize("route", ["/api/v1/jobs/", "/api/v1/jobs/status/", "/admin/login/"])
def test_the_remembered_match_is_the_one_django_resolves(app, route):
    request = RequestFactory().get(route)
    app.resolve_request(request)  # remembered
    request = RequestFactory().get(route)
    match = app.resolve_request(request)
    expected = resolve(route)
    assert request.resolver_match is match
    assert (match.func, match.url_name, match.namespaces, match.route) == (
        expected.func,
        expected.url_name,
        expected.namespaces,
        expected.route,
    )


def test_a_route_with_arguments_is_resolved_each_time(app):
    first = app.resolve_request(RequestFactory().get("/api/v1/jobs/7/"))
    second = app.resolve_request(RequestFactory().get("/api/v1/jobs/7/"))
    assert first.kwargs == {"pk": "7"}  # a router route: text
    assert first is not second
    assert "/api/v1/jobs/7/" not in _remembered()


@pytest.mark.django_db
def test_an_unknown_path_is_refused_each_time_and_not_remembered(app):
    for _ in range(2):
        with pytest.raises(Resolver404):
            app.resolve_request(RequestFactory().get("/api/v1/nope/"))
        assert _call(app, "/api/v1/nope/")[0] == 404
    assert "/api/v1/nope/" not in _remembered()


def test_the_memory_is_bounded(app, monkeypatch):
    monkeypatch.setattr(handler, "ROUTES_MAX", 1)
    app.resolve_request(RequestFactory().get("/api/v1/jobs/"))
    app.resolve_request(RequestFactory().get("/api/v1/jobs/status/"))
    assert list(_remembered()) == ["/api/v1/jobs/"]


def _only_view(request):
    raise AssertionError("never called")


urlpatterns = [path("api/v1/jobs/", _only_view, name="other")]


def test_a_new_urlconf_starts_with_nothing_remembered(app):
    app.resolve_request(RequestFactory().get("/api/v1/jobs/"))
    with override_settings(ROOT_URLCONF=__name__):
        match = app.resolve_request(RequestFactory().get("/api/v1/jobs/"))
        assert match.func is _only_view
    assert app.resolve_request(RequestFactory().get("/api/v1/jobs/")).func is not _only_view


def test_a_urlconf_a_middleware_chose_is_resolved_by_django(app):
    app.resolve_request(RequestFactory().get("/api/v1/jobs/"))
    request = RequestFactory().get("/api/v1/jobs/")
    request.urlconf = __name__
    try:
        assert app.resolve_request(request).func is _only_view
    finally:
        from django.urls import set_urlconf

        set_urlconf(None)
