"""Markdown to safe HTML for article sections.

Articles are trusted files, but they are still sanitised: a `<script>` or an `onclick`
slipped into a Markdown file must never reach a page.
"""

import html
import re

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "code": {"class"}, "h3": {"id"}, "h4": {"id"}}
_LANGUAGE_CLASS_RE = re.compile(r"^language-[\w+-]+$")
_CODE_BLOCK_RE = re.compile(r'<pre><code(?: class="language-(?P<lang>[\w+-]+)")?>(?P<body>.*?)</code></pre>', re.S)
LANGUAGE_LABELS = {"yaml": "YAML", "yml": "YAML", "console": "Shell", "bash": "Shell", "sh": "Shell", "text": "Text", "json": "JSON"}


def _keep_language_classes(element: str, attribute: str, value: str) -> str | None:
    if element == "code" and attribute == "class":
        return value if _LANGUAGE_CLASS_RE.match(value) else None
    return value


def _wrap_code_block(match: re.Match) -> str:
    """Give every code block a toolbar with a copy button (see static/js/meshkb.js)."""
    language = match["lang"] or "text"
    label = LANGUAGE_LABELS.get(language, language.upper())
    code_class = f' class="language-{language}"' if match["lang"] else ""
    return (
        f'<div class="codeblock" data-language="{html.escape(language)}">'
        f'<div class="codeblock-bar"><span class="codeblock-lang">{html.escape(label)}</span>'
        f'<button type="button" class="copy-button" data-copy>Copy</button></div>'
        f"<pre><code{code_class}>{match['body']}</code></pre></div>"
    )


def render_markdown(text: str) -> str:
    """Render Markdown, sanitise it, then add the copy toolbar to code blocks."""
    rendered = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
    clean = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_language_classes,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return _CODE_BLOCK_RE.sub(_wrap_code_block, clean)
