import json
import sys

from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.search.engine import DEFAULT_LIMIT
from troubleshooting.search.engine import search as search_articles


class Command(MeshkbCommand):
    help = 'Find the failure articles matching an error message: search "<text>" (or - to read stdin).'

    def add_arguments(self, parser):
        parser.add_argument("text", help="the error text, or - to read it from standard input")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the API JSON instead of a table")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"results to show (default {DEFAULT_LIMIT})")

    def handle(self, *args, text, as_json: bool = False, limit: int = DEFAULT_LIMIT, **options):
        if text == "-":
            data = sys.stdin.buffer.read()
            text = data.decode("utf-8", errors="replace")
        if not text.strip():
            raise InputError("search: the error text is empty")
        if not 1 <= limit <= 50:
            raise InputError(f"--limit: {limit} is out of range (1-50)")
        result = search_articles(text, limit=limit)
        if as_json:
            self.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
            return
        if result.notice:
            self.stderr.write(result.notice)
        if not result.hits:
            self.stdout.write("No known failure matches this text.")
            return
        for rank, hit in enumerate(result.hits, 1):
            self.stdout.write(f"{rank:2}. {hit.slug}  ({hit.severity}, score {hit.score:.1f})")
            self.stdout.write(f"    {hit.title}")
            self.stdout.write(f"    matched: {hit.matched}")

