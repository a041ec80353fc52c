"""Shared behaviour of meshkb's management commands."""

import sys

from django.core.management.base import BaseCommand, CommandError


class InputError(CommandError):
    """Bad input from the user: printed as one bare line, never a traceback."""


class MeshkbCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except InputError as exc:
            # From the shell, print the message alone (e.g. "file:line: what is wrong");
            # call_command() in tests still gets the exception.
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            self.stderr.write(str(exc))
            sys.exit(exc.returncode)
