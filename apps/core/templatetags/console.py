"""Template filters of the operations console."""

from __future__ import annotations

from datetime import datetime

from django import template

from apps.core.console.charts import status_slug

register = template.Library()


@register.filter
def slug(status: str) -> str:
    """The CSS class suffix of a status (`st-<slug>`)."""
    return status_slug(status)


@register.filter
def duration(start: datetime | None, end: datetime | None) -> str:
    """How long from start to end, as 1h 02m 03s ("" without a start or an end)."""
    if start is None or end is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


# apps/security/prompts/sanitize.py escapes these three in every answer (for Markdown
# renderers); shown as text, the page undoes them and the template escapes again.
_ANSWER_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


@register.filter
def answer_text(text: str) -> str:
    """An assistant answer as the characters it stands for (autoescaped when rendered)."""
    for entity, character in _ANSWER_ENTITIES:
        text = text.replace(entity, character)
    return text
