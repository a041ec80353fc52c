"""Build article files for loader tests: a valid text, changed in exactly one place."""

from pathlib import Path

from tests.conftest import DEMO_ARTICLES

VALID_ARTICLE = (DEMO_ARTICLES / "demo-mtls-reset.md").read_text()


def write_article(folder: Path, slug: str = "demo-mtls-reset", replace: tuple[str, str] | None = None) -> Path:
    """Write ``<slug>.md`` into folder, optionally replacing one substring of the valid text."""
    text = VALID_ARTICLE.replace("slug: demo-mtls-reset", f"slug: {slug}")
    if replace:
        old, new = replace
        assert old in text, f"{old!r} is not in the article template"
        text = text.replace(old, new, 1)
    path = folder / f"{slug}.md"
    path.write_text(text)
    return path
