from django.contrib.auth import get_user_model

from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.models import ApiToken


class Command(MeshkbCommand):
    help = (
        "Manage API tokens for the JSON API (`Authorization: Bearer <token>`). `create USER --name N` prints the "
        "new token once on stdout; `list [--user U]`; `revoke PREFIX` (the first characters `list` shows)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token for a user and print it")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for (default: cli)")
        listing = sub.add_parser("list", help="list tokens (never the keys)")
        listing.add_argument("--user", dest="list_user", default=None)
        revoke = sub.add_parser("revoke", help="delete a token")
        revoke.add_argument("prefix")

    def handle(self, *args, **options):
        getattr(self, "_" + options["action"])(options)

    def _create(self, options):
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: options["username"]}).first()
        if user is None or not user.is_active:
            raise InputError(f"apitoken create: no active user '{options['username']}'")
        name = (options["name"] or "cli").strip()[:100]
        token, key = ApiToken.issue(user, name)
        self.stderr.write(f"token {token.prefix}… '{name}' for {user.get_username()}: store it now, it is not shown again")
        self.stdout.write(key)

    def _list(self, options):
        tokens = ApiToken.objects.select_related("user")
        if options["list_user"]:
            tokens = tokens.filter(**{"user__" + get_user_model().USERNAME_FIELD: options["list_user"]})
        for token in tokens:
            used = token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never used"
            self.stdout.write(
                f"{token.prefix}…\t{token.user.get_username()}\t{token.name}\t"
                f"created {token.created_at:%Y-%m-%d %H:%M}\t{used}"
            )

    def _revoke(self, options):
        prefix = options["prefix"].rstrip("…").rstrip(".")
        if len(prefix) < 8:
            raise InputError("apitoken revoke: give at least the first 8 characters shown by `apitoken list`")
        # Keys are case-sensitive, but SQLite's LIKE behind __startswith is not: the database narrows, Python decides.
        matches = [t for t in ApiToken.objects.filter(prefix__startswith=prefix[:12]) if t.prefix.startswith(prefix[:12])]
        if not matches:
            raise InputError(f"apitoken revoke: no token starts with '{prefix}'")
        if len(matches) > 1:
            raise InputError(f"apitoken revoke: {len(matches)} tokens start with '{prefix}'; give more characters")
        matches[0].delete()
        self.stdout.write(f"revoked {matches[0].prefix}… '{matches[0].name}' of {matches[0].user.get_username()}")
