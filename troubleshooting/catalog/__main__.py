"""Validate article files without Django: ``python -m troubleshooting.catalog [FOLDER|FILE ...]``.

Folders get the whole-catalog checks (duplicate slugs, related links); single files are
checked alone. Prints ``file:line: what is wrong`` and exits 1 on the first bad file.
"""

import sys
from pathlib import Path

from .parser import ArticleError, parse_article, parse_catalog

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "articles"


def main(argv: list[str]) -> int:
    folders = argv or [str(DEFAULT_FOLDER)]
    try:
        files = [f for f in folders if Path(f).is_file()]
        articles = [parse_article(f) for f in files] + parse_catalog([f for f in folders if f not in files])
    except ArticleError as exc:
        print(exc, file=sys.stderr)
        return 1
    for article in articles:
        print(f"ok  {article.slug:45} {len(article.symptoms):3} symptoms  {len(article.snippets):3} code blocks")
    print(f"{len(articles)} articles are valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
