"""sanitize_answer: what the assistant answers is plain text in a small escaped Markdown subset.

The text comes from the model, which read job names, messages and other plan data that
anyone able to name a job in HWA controls; none of it may become markup in a console. So:

- `&`, `<` and `>` are escaped as HTML entities: no tag, comment or entity survives, and a
  Markdown renderer (with or without raw HTML enabled) shows the characters as typed;
- images `![alt](url)` become their alt text and links `[text](url)` their text, and
  reference definitions `[x]: url` are dropped: a rendered image fetches its URL without a
  click (a way to send data out), and the console links cited jobs itself;
- control characters other than newline and tab are removed.

What stays is text with **bold**, *emphasis*, `code`, lists and headings, all harmless.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_REFERENCE = re.compile(r"^[ \t]{0,3}\[[^\]\n]{1,500}\]:[^\n]*$", re.MULTILINE)
# A `[` that may still become a link or a reference definition as more text arrives.
_OPEN = re.compile(r"\[[^\]\n]*(?:\Z|\](?:\Z|\([^)\n]*\Z|:))")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def sanitize_answer(text: str) -> str:
    """`text` as plain text in escaped Markdown: no markup, images or links survive."""
    text = _CONTROL.sub("", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE.sub("", text)
    return re.sub(r"[&<>]", lambda m: _ESCAPES[m.group(0)], text)


# The longest construct held back while streaming: a link's text and URL at their bounds.
_HOLD_MAX = 2600


class StreamSanitizer:
    """sanitize_answer for text that arrives in pieces (server-sent events).

    Whatever could still be the start of an image, a link or a reference definition (from
    its last unclosed `[`, or a trailing `!`) is held back until it closes, a line ends or it
    is too long to be one; everything before it is sanitized and passed on at once.
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> str:
        """Take the next piece; return what can be shown now, sanitized."""
        self._pending += text
        cut = self._stable_end(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return sanitize_answer(ready)

    def finish(self) -> str:
        """Everything still held back, sanitized."""
        ready, self._pending = self._pending, ""
        return sanitize_answer(ready)

    @staticmethod
    def _stable_end(text: str) -> int:
        start = text.rfind("[")
        if start != -1 and "\n" not in text[start:] and len(text) - start < _HOLD_MAX:
            tail = text[start:]
            if not _LINK.match(tail) and _OPEN.match(tail):
                return start - 1 if start and text[start - 1] == "!" else start
        return len(text) - 1 if text.endswith("!") else len(text)
