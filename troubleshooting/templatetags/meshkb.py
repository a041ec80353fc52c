import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()
_BACKTICKS_RE = re.compile(r"`([^`]+)`")


@register.filter
def inline_code(text: str) -> str:
    """Escape plain text and show `backticked` words as code (for summaries and titles)."""
    return mark_safe(_BACKTICKS_RE.sub(r"<code>\1</code>", escape(text)))
