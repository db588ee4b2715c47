"""What an origin is: exactly what a browser sends in its Origin header."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.security.cors.models import (
    BAD_HOST,
    BAD_PORT,
    BAD_SCHEME,
    HAS_PATH,
    HAS_USERINFO,
    HAS_WILDCARD,
    NOT_AN_ORIGIN,
    NOT_ASCII,
    CorsOrigin,
    origin_normalize,
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://ops.example.com", "https://ops.example.com"),
        ("HTTPS://Ops.Example.COM", "https://ops.example.com"),
        ("  https://ops.example.com ", "https://ops.example.com"),
        ("https://ops.example.com:443", "https://ops.example.com"),
        ("http://ops.example.com:80", "http://ops.example.com"),
        ("http://ops.example.com:443", "http://ops.example.com:443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
    ],
)
def test_an_origin_is_stored_as_a_browser_sends_it(given, stored):
    assert origin_normalize(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", NOT_AN_ORIGIN),
        ("null", NOT_AN_ORIGIN),
        ("ops.example.com", NOT_AN_ORIGIN),
        ("https://", NOT_AN_ORIGIN),
        ("*", HAS_WILDCARD),
        ("https://*.example.com", HAS_WILDCARD),
        ("ftp://ops.example.com", BAD_SCHEME),
        ("javascript://ops.example.com", BAD_SCHEME),
        ("https://ops.example.com/", HAS_PATH),
        ("https://ops.example.com/app", HAS_PATH),
        ("https://ops.example.com?x", HAS_PATH),
        ("https://ops.example.com#top", HAS_PATH),
        ("https://user:pw@ops.example.com", HAS_USERINFO),
        ("https://ops.example.com:0", BAD_PORT),
        ("https://ops.example.com:65536", BAD_PORT),
        ("https://ops.example.com:http", BAD_PORT),
        ("https://ops_example.com", BAD_HOST),
        ("https://-ops.example.com", BAD_HOST),
        ("https://ops.example.com.", BAD_HOST),
        ("https://300.1.1.1", BAD_HOST),
        ("https://[::zz]", BAD_HOST),
        ("https://" + "a" * 64 + ".example", BAD_HOST),
        ("https://bücher.example", NOT_ASCII),
        ("https://ops.exa\nmple.com", NOT_ASCII),
        ("https://ops .example.com", NOT_ASCII),
    ],
)
def test_anything_else_is_refused_with_the_reason(given, message):
    with pytest.raises(ValidationError) as info:
        origin_normalize(given)
    assert info.value.messages == [message]


def test_the_model_normalises_before_checking_uniqueness(db):
    CorsOrigin.objects.create(origin="https://ops.example.com")
    twin = CorsOrigin(origin="HTTPS://OPS.example.com:443")
    with pytest.raises(ValidationError) as info:
        twin.full_clean()
    assert list(info.value.message_dict) == ["origin"]


def test_the_model_names_the_field_of_a_bad_origin():
    with pytest.raises(ValidationError) as info:
        CorsOrigin(origin="https://ops.example.com/").full_clean(validate_unique=False)
    assert info.value.message_dict == {"origin": [HAS_PATH]}
