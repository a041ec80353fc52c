from django.conf import settings

from troubleshooting.catalog.parser import ArticleError, parse_catalog
from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.models import Article


class Command(MeshkbCommand):
    help = "Sync the article files into the database (idempotent). Nothing changes if any file is bad."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            action="append",
            dest="dirs",
            metavar="PATH",
            help="article folder to load (repeatable; default: the bundled folder plus MESHKB_EXTRA_ARTICLE_DIRS)",
        )
        parser.add_argument("--check", action="store_true", help="validate the files only; do not touch the database")
        parser.add_argument("--database", default="default", help="database alias to load into (default: default)")

    def handle(self, *args, dirs=None, check=False, database="default", **options):
        try:
            sources = parse_catalog(dirs or settings.ARTICLE_DIRS)
        except ArticleError as exc:
            raise InputError(str(exc)) from None
        if check:
            self.stdout.write(f"{len(sources)} articles are valid")
            return
        result = Article.objects.using(database).sync(sources)
        self.stdout.write(f"articles: {result}")
