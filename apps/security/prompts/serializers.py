"""The one serializer of an assistant request, with the seed's rules (README: Assistant).

prompt      1 to 10,000 characters; refused when it is an SQL-injection probe (the
            error mentions "injection", code "injection") or mostly encoded data
model       optional, ^[a-zA-Z0-9\\-_/.]+$, at most 100 characters; recorded in the
            audit row (the configured model answers)
request_id  optional UUID; the view generates one when absent and echoes it
client_ip   optional, a valid IPv4 or IPv6 address: validated and recorded, never trusted
            (the address used is the connection's, apps/security/client_ip.py)
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from apps.core.api.inputs import StrictInputMixin
from apps.security.prompts.entropy import check_entropy
from apps.security.prompts.injection import INJECTION, injection_rule

PROMPT_MAX = 10_000
MODEL_MAX = 100
MODEL_PATTERN = r"^[a-zA-Z0-9\-_/.]+$"
INJECTION_CODE = "injection"
ENTROPY_CODE = "entropy"


class StrictCharField(serializers.CharField):
    """Text given as a JSON string; DRF's CharField would also take 5 or true as "5"."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PromptRequestSerializer(StrictInputMixin, serializers.Serializer):
    """An LLM request as the seed's security plan validates it."""

    prompt = StrictCharField(
        min_length=1,
        max_length=PROMPT_MAX,
        trim_whitespace=False,
        # Not blank: in the schema too, so generated clients know a blank prompt is refused.
        validators=[RegexValidator(r"\S", "The prompt is blank.", code="blank")],
    )
    model = StrictCharField(
        required=False,
        max_length=MODEL_MAX,
        validators=[RegexValidator(MODEL_PATTERN)],
        help_text="Model name: letters, digits, - _ / . (at most 100).",
    )
    request_id = serializers.UUIDField(
        required=False, help_text="Echoed in the answer and X-Request-ID; generated if absent."
    )
    client_ip = serializers.IPAddressField(
        required=False,
        help_text="Recorded as the client's claim; the address used is the connection's.",
    )

    def validate_prompt(self, value: str) -> str:
        rule = injection_rule(value)
        if rule is not None:
            raise serializers.ValidationError(INJECTION.format(rule=rule), code=INJECTION_CODE)
        try:
            check_entropy(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code=ENTROPY_CODE) from exc
        return value


def injection_rejected(serializer: serializers.Serializer) -> bool:
    """Did `serializer` (validated) refuse its prompt as an injection attempt?"""
    errors = serializer.errors.get("prompt", [])
    return any(getattr(error, "code", None) == INJECTION_CODE for error in errors)
