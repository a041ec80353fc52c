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


@register.filter
def sparkline(values, size: str = "120x28") -> str:
    """A small inline SVG line of numbers (findings per scan), oldest to newest."""
    width, height = (int(part) for part in size.split("x"))
    numbers = [float(v) for v in values or []]
    if len(numbers) < 2:
        return ""
    top = max(numbers) or 1.0
    step = (width - 4) / (len(numbers) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (n / top) * (height - 4):.1f}" for i, n in enumerate(numbers)
    )
    return mark_safe(
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="findings over the last {len(numbers)} scans"><polyline points="{points}" fill="none" '
        f'stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/></svg>'
    )


@register.filter
def age(delta) -> str:
    """A timedelta as a short age: 45 s, 12 min, 3 h, 2 d."""
    if delta is None:
        return "never"
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
