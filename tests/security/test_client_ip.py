from __future__ import annotations

import pytest
from django.test import RequestFactory

from apps.monitoring.models import AuditEvent
from apps.security.client_ip import client_ip
from tests.factories import PASSWORD

factory = RequestFactory()


def _request(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/", **extra)


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings):
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_client_is_used(settings):
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(_request("10.0.0.1", "198.51.100.7")) == "198.51.100.7"


def test_a_client_cannot_push_a_fake_address_in_front_of_the_real_one(settings):
    # The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the address it saw.
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("10.0.0.2", "1.1.1.1, 198.51.100.7")) == "198.51.100.7"


def test_chained_trusted_proxies_are_skipped_from_the_right(settings):
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.0/24"]
    forwarded = "1.1.1.1, 198.51.100.7, 192.0.2.10"
    assert client_ip(_request("10.0.0.2", forwarded)) == "198.51.100.7"


def test_garbage_in_the_header_never_becomes_the_address(settings):
    settings.RESYNC_TRUSTED_PROXIES = ["10.0.0.1"]
    assert client_ip(_request("10.0.0.1", "unknown")) == "10.0.0.1"
    assert client_ip(_request("10.0.0.1", "")) == "10.0.0.1"


def test_an_ipv4_mapped_ipv6_peer_is_its_ipv4_address():
    assert client_ip(_request("::ffff:198.51.100.7")) == "198.51.100.7"


def test_an_unknown_peer_is_empty_never_a_shared_placeholder():
    assert client_ip(_request("")) == ""
    assert client_ip(_request("not-an-ip")) == ""


@pytest.mark.django_db
def test_audit_rows_carry_the_client_address(client, viewer, settings):
    settings.RESYNC_TRUSTED_PROXIES = ["127.0.0.1"]
    client.post(
        "/api/v1/auth/token/",
        {"username": "viewer", "password": PASSWORD},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="198.51.100.23",
    )
    row = AuditEvent.objects.get(action="login.succeeded")
    assert row.ip == "198.51.100.23"
    assert row.request_id
