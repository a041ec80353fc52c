"""Parse and validate one article file: YAML front matter plus a Markdown body.

Pure Python (no Django): ``parse_article(path)`` returns an ``ArticleSource`` or raises
``ArticleError`` whose text is ``file:line: what is wrong``. ``parse_catalog(folder)``
parses every ``*.md`` file and adds the cross-file checks (duplicate slugs, related links).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from troubleshooting.versions import AffectedVersions, VersionError

from .vocabulary import CATEGORIES, COMPONENTS, RESPONSE_FLAGS, SECTIONS, SEEN_IN, SEVERITIES

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_ARTICLE_BYTES = 256 * 1024
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
IST_CODE_RE = re.compile(r"^IST\d{4}$")
FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
LINK_RE = re.compile(r"\[(?P<title>[^\]]+)\]\((?P<url>[^)\s]+)\)|<(?P<bare>https?://[^>\s]+)>")
SUMMARY_PREFIX = "This failure occurs when"

REQUIRED_FIELDS = ("slug", "title", "summary", "category", "severity", "components", "symptoms")
OPTIONAL_FIELDS = ("istio_versions", "analyzer_codes", "response_flags", "related")


class ArticleError(ValueError):
    """A problem in an article file, located as ``file:line``."""

    def __init__(self, path: Path | str, line: int, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Snippet:
    section: str
    heading: str
    language: str
    code: str
    line: int


@dataclass
class ArticleSource:
    path: str
    slug: str
    title: str
    summary: str
    category: str
    severity: str
    components: list[str]
    istio_versions: list[dict]
    symptoms: list[dict]
    analyzer_codes: list[str]
    response_flags: list[str]
    related: list[str]
    references: list[dict]
    sections: dict[str, str]
    snippets: list[Snippet] = field(default_factory=list)
    source_hash: str = ""

    @property
    def affected_versions(self) -> AffectedVersions:
        return AffectedVersions.from_data(self.istio_versions)


class _FrontMatter:
    """Front-matter data with the line of each key, for error messages."""

    def __init__(self, path: Path, text: str, first_line: int):
        self.path, self.first_line = path, first_line
        try:
            loader = SafeLoader(text)
            try:
                node = loader.get_single_node()
                self.data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = first_line + (mark.line if mark else 0)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ArticleError(path, line, f"malformed front matter: {problem}") from None
        if not isinstance(self.data, dict):
            raise ArticleError(path, first_line, "front matter must be a YAML mapping of fields")
        self.lines = {}
        for key_node, value_node in node.value:
            self.lines[key_node.value] = first_line + key_node.start_mark.line
            if isinstance(value_node, yaml.SequenceNode):
                for index, item in enumerate(value_node.value):
                    self.lines[(key_node.value, index)] = first_line + item.start_mark.line

    def error(self, key, message: str) -> ArticleError:
        line = self.lines.get(key) or self.lines.get(key[0] if isinstance(key, tuple) else key)
        return ArticleError(self.path, line or self.first_line, message)

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"'{key}' must be a non-empty string")
        return " ".join(value.split())

    def choice(self, key: str, allowed: dict) -> str:
        value = self.data.get(key)
        if value not in allowed:
            raise self.error(key, f"unknown {key} {value!r} (expected one of: {', '.join(allowed)})")
        return value

    def string_list(self, key: str, *, required: bool, allowed: dict | None = None, pattern=None) -> list[str]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            raise self.error(key, f"'{key}' must be a {'non-empty ' if required else ''}list")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error((key, index), f"{key}[{index}] must be a string")
            if allowed is not None and item not in allowed:
                raise self.error(
                    (key, index), f"unknown {key} entry {item!r} (expected one of: {', '.join(allowed)})"
                )
            if pattern is not None and not pattern.match(item):
                raise self.error((key, index), f"{key}[{index}] {item!r} is not of the form {pattern.pattern}")
        if len(set(value)) != len(value):
            raise self.error(key, f"'{key}' lists the same entry twice")
        return list(value)


def _split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ArticleError(path, 1, "missing front matter: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise ArticleError(path, 1, "unterminated front matter: no closing '---' line")


def _parse_symptoms(front: _FrontMatter) -> list[dict]:
    value = front.data.get("symptoms")
    if not isinstance(value, list) or not value:
        raise front.error("symptoms", "'symptoms' must be a non-empty list of {text, seen_in}")
    symptoms = []
    for index, item in enumerate(value):
        where = ("symptoms", index)
        if not isinstance(item, dict):
            raise front.error(where, f"symptoms[{index}] must be a mapping with 'text' and 'seen_in'")
        unknown = set(item) - {"text", "seen_in", "note"}
        if unknown:
            raise front.error(where, f"symptoms[{index}] has unknown keys: {', '.join(sorted(unknown))}")
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise front.error(where, f"symptoms[{index}].text must be a non-empty string")
        if item.get("seen_in") not in SEEN_IN:
            raise front.error(
                where,
                f"symptoms[{index}] has unknown seen_in {item.get('seen_in')!r} "
                f"(expected one of: {', '.join(SEEN_IN)})",
            )
        note = item.get("note")
        if note is not None and not isinstance(note, str):
            raise front.error(where, f"symptoms[{index}].note must be a string")
        symptoms.append({"text": text.strip(), "seen_in": item["seen_in"], "note": (note or "").strip()})
    return symptoms


def _parse_body(path: Path, body: str, first_line: int) -> tuple[dict[str, str], dict[str, int], list[Snippet]]:
    """Split the body into the fixed sections (text and heading line) and collect fenced code blocks."""
    expected = list(SECTIONS.items())
    sections: dict[str, list[str]] = {}
    heading_lines: dict[str, int] = {}
    snippets: list[Snippet] = []
    current = None
    heading = ""
    fence = None  # (marker, language, start line, lines)
    lines = body.split("\n")
    for offset, line in enumerate(lines):
        lineno = first_line + offset
        if fence is not None:
            marker, language, start, code = fence
            if line.strip().startswith(marker) and not line.strip().strip(marker[0]):
                snippets.append(Snippet(current, heading, language, "\n".join(code), start))
                fence = None
            else:
                code.append(line)
            sections[current].append(line)
            continue
        match = FENCE_RE.match(line)
        if match:
            if current is None:
                raise ArticleError(path, lineno, "code block before the first section heading")
            fence = (match["fence"], match["lang"].lower(), lineno, [])
            sections[current].append(line)
            continue
        if line.startswith("## "):
            title = line[3:].strip()
            position = len(sections)
            if position >= len(expected):
                raise ArticleError(path, lineno, f"unexpected section '## {title}' after References")
            key, wanted = expected[position]
            if title != wanted:
                names = ", ".join(f"'## {label}'" for _, label in expected)
                later = [label for _, label in expected[position + 1 :]]
                if title in SECTIONS.values() and title not in later:
                    raise ArticleError(path, lineno, f"section '## {title}' appears twice or out of order (sections are {names})")
                raise ArticleError(path, lineno, f"missing section '## {wanted}' (found '## {title}'; sections are {names})")
            current, heading = key, title
            sections[key] = []
            heading_lines[key] = lineno
            continue
        if line.startswith("# ") and current is not None:
            raise ArticleError(path, lineno, "use '##' section headings; the title comes from the front matter")
        if line.startswith("### "):
            heading = line[4:].strip()
        if current is None:
            if line.strip():
                raise ArticleError(path, lineno, "text before the first section heading '## Symptoms'")
            continue
        sections[current].append(line)
    if fence is not None:
        raise ArticleError(path, fence[2], "unclosed code block (no closing fence)")
    if len(sections) < len(expected):
        missing = expected[len(sections)][1]
        raise ArticleError(path, first_line + len(lines) - 1, f"missing section '## {missing}'")

    for snippet in snippets:
        if snippet.language in ("yaml", "yml"):
            try:
                list(yaml.load_all(snippet.code, Loader=SafeLoader))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
                line = snippet.line + 1 + (mark.line if mark else 0)
                problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
                raise ArticleError(path, line, f"yaml block does not parse: {problem}") from None
    text = {key: "\n".join(value).strip() + "\n" for key, value in sections.items()}
    for key, label in SECTIONS.items():
        if not text[key].strip():
            raise ArticleError(path, heading_lines[key], f"section '## {label}' is empty")
    return text, heading_lines, snippets


def _parse_references(path: Path, markdown: str, line: int) -> list[dict]:
    references, seen = [], set()
    for match in LINK_RE.finditer(markdown):
        url = match["url"] or match["bare"]
        title = match["title"] or url
        if not url.startswith(("https://", "http://")):
            continue
        if url not in seen:
            seen.add(url)
            references.append({"title": " ".join(title.split()), "url": url})
    if not references:
        raise ArticleError(path, line, "section '## References' must link at least one http(s) URL")
    return references


def parse_article(path: Path | str) -> ArticleSource:
    path = Path(path)
    raw = path.read_bytes()
    if len(raw) > MAX_ARTICLE_BYTES:
        raise ArticleError(path, 1, f"file is too large ({len(raw)} bytes; the limit is {MAX_ARTICLE_BYTES})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArticleError(path, line, "file is not valid UTF-8") from None
    if "\x00" in text:
        raise ArticleError(path, text[: text.index("\x00")].count("\n") + 1, "file contains a NUL byte")
    text = text.replace("\r\n", "\n")
    front_text, body, body_first_line = _split_front_matter(path, text)
    front = _FrontMatter(path, front_text, 2)

    unknown = set(front.data) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        key = sorted(unknown)[0]
        raise front.error(key, f"unknown front-matter field {key!r}")
    for key in REQUIRED_FIELDS:
        if key not in front.data:
            raise ArticleError(path, 1, f"missing front-matter field {key!r}")

    slug = front.text("slug")
    if not SLUG_RE.match(slug):
        raise front.error("slug", f"slug {slug!r} must be lower-case words joined by '-'")
    if slug != path.stem:
        raise front.error("slug", f"slug {slug!r} does not match the file name {path.name!r}")
    summary = front.text("summary")
    if not summary.startswith(SUMMARY_PREFIX):
        raise front.error("summary", f"summary must start with '{SUMMARY_PREFIX}…'")
    try:
        versions = front.data.get("istio_versions")
        AffectedVersions.from_data(versions)
    except VersionError as exc:
        raise front.error("istio_versions", str(exc)) from None

    sections, heading_lines, snippets = _parse_body(path, body, body_first_line)
    if not any(s.section == "fix" and s.language in ("yaml", "yml") for s in snippets):
        raise ArticleError(path, heading_lines["fix"], "section '## Fix' needs at least one ```yaml block")
    if not any(s.section == "diagnosis" for s in snippets):
        raise ArticleError(path, heading_lines["diagnosis"], "section '## Diagnosis' needs at least one command block")
    return ArticleSource(
        path=str(path),
        slug=slug,
        title=front.text("title"),
        summary=summary,
        category=front.choice("category", CATEGORIES),
        severity=front.choice("severity", SEVERITIES),
        components=front.string_list("components", required=True, allowed=COMPONENTS),
        istio_versions=list(versions or []),
        symptoms=_parse_symptoms(front),
        analyzer_codes=front.string_list("analyzer_codes", required=False, pattern=IST_CODE_RE),
        response_flags=front.string_list("response_flags", required=False, allowed=RESPONSE_FLAGS),
        related=front.string_list("related", required=False, pattern=SLUG_RE),
        references=_parse_references(path, sections["references"], heading_lines["references"]),
        sections=sections,
        snippets=snippets,
        source_hash=hashlib.sha256(raw).hexdigest(),
    )


def parse_catalog(folders: list[Path | str]) -> list[ArticleSource]:
    """Parse every article in the folders; raises the first ArticleError found.

    Several folders let a team keep its own articles beside the bundled ones, so the
    same slug can appear twice: that is an error, not an override.
    """
    articles, by_slug = [], {}
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ArticleError(folder, 0, "article folder does not exist")
        for path in sorted(folder.glob("*.md")):
            if path.name.upper() == "README.MD":
                continue
            article = parse_article(path)
            if article.slug in by_slug:
                raise ArticleError(path, 2, f"duplicate slug {article.slug!r} (also in {by_slug[article.slug]})")
            by_slug[article.slug] = str(path)
            articles.append(article)
    for article in articles:
        for slug in article.related:
            if slug not in by_slug:
                raise ArticleError(article.path, 1, f"related article {slug!r} does not exist")
    return articles
