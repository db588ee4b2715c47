"""check_entropy: refuse prompts that are mostly random or encoded data.

A model call costs money and a prompt is a question: a pasted key, a base64 blob or a hex
dump is either a mistake or someone smuggling a payload past the other checks. A run is a
stretch of at least MIN_RUN characters from the base64/hex alphabet (letters, digits,
`+/=_-`) without a space. A run counts as encoded data when it is

  - hexadecimal (only 0-9 a-f) and at least HEX_MIN_RUN characters long, or
  - mixed like base64 (lower case, upper case and digits) and its Shannon entropy is at least
    MIN_BITS bits per character (random base64 measures 4.06 or more over 32 characters in
    5,000 draws; job names such as PAYROLL_NIGHTLY_EXTRACT_01, in one case, lack the mix,
    and a single CamelCase name is too short to make a prompt "mostly" encoded).

The prompt is refused when encoded runs make up more than MAX_ENCODED_SHARE of its
non-blank characters and at least MIN_ENCODED characters in all: a question quoting one
UUID or checksum passes, a prompt that is mostly a blob does not.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_RUN = 32
HEX_MIN_RUN = 32
MIN_BITS = 4.0
MAX_ENCODED_SHARE = 2 / 3
MIN_ENCODED = 64

ENCODED = (
    "The prompt is mostly encoded or random data ({share:.0%} of it in base64 or hex runs); "
    "ask a question in plain language."
)

_RUN = re.compile(rf"[A-Za-z0-9+/=_-]{{{MIN_RUN},}}")
_HEX = re.compile(r"[0-9a-fA-F]+")


def shannon_bits(text: str) -> float:
    """Bits of entropy per character of `text`, from its own character frequencies."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def is_encoded(run: str) -> bool:
    """Does this run of base64/hex characters look like encoded data rather than words?"""
    if _HEX.fullmatch(run):
        return len(run) >= HEX_MIN_RUN
    mixed = (
        any(c.islower() for c in run)
        and any(c.isupper() for c in run)
        and any(c.isdigit() for c in run)
    )
    return mixed and shannon_bits(run) >= MIN_BITS


def encoded_share(text: str) -> tuple[int, float]:
    """Characters of `text` in encoded runs, and their share of its non-blank characters."""
    encoded = sum(len(m.group(0)) for m in _RUN.finditer(text) if is_encoded(m.group(0)))
    nonblank = sum(1 for c in text if not c.isspace())
    return encoded, (encoded / nonblank if nonblank else 0.0)


def check_entropy(text: str) -> None:
    """Raise ValueError with a clear message if `text` is mostly encoded or random data."""
    encoded, share = encoded_share(text)
    if encoded >= MIN_ENCODED and share > MAX_ENCODED_SHARE:
        raise ValueError(ENCODED.format(share=share))
