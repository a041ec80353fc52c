from django.conf import settings

from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.models import Article
from troubleshooting.search.engine import search
from troubleshooting.search.evaluation import EvaluationSetError, evaluate, load_cases

DEFAULT_SETS = [settings.BASE_DIR / "tests" / "search_eval" / name for name in ("dev_set.yaml", "validation_set.yaml")]


class Command(MeshkbCommand):
    help = "Print the search's top-1 and top-3 accuracy on labelled sets of real error messages."

    def add_arguments(self, parser):
        parser.add_argument("sets", nargs="*", help="evaluation set files (default: tests/search_eval/dev_set.yaml and validation_set.yaml)")
        parser.add_argument("--misses", action="store_true", help="list the cases not answered in the top 3")
        parser.add_argument("--database", default="default", help="database alias to search (default: default)")

    def handle(self, *args, sets=None, misses=False, database="default", **options):
        slugs = set(Article.objects.using(database).values_list("slug", flat=True))
        if not slugs:
            raise InputError("searcheval: the catalog is empty; run `manage.py loadarticles` first")

        def ranked(text: str, depth: int) -> list[str]:
            return [hit.slug for hit in search(text, limit=depth, using=database).hits]

        for path in sets or DEFAULT_SETS:
            try:
                cases = load_cases(path, known_slugs=slugs)
            except EvaluationSetError as exc:
                raise InputError(str(exc)) from None
            report = evaluate(cases, ranked)
            self.stdout.write(f"{path}: {report.summary()}")
            if misses:
                for outcome in report.misses(3):
                    got = ", ".join(outcome.ranked) or "nothing"
                    self.stdout.write(f"  miss {outcome.case.id}: expected {outcome.case.expected[0]}, got {got}")
