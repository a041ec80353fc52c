import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model

from troubleshooting.management.base import MeshkbCommand


class Command(MeshkbCommand):
    help = (
        "Create the first admin user if no superuser exists. Credentials come from MESHKB_ADMIN_USERNAME and "
        "MESHKB_ADMIN_PASSWORD, or are generated and saved to var/admin-credentials.txt (mode 600)."
    )

    def handle(self, *args, **options):
        users = get_user_model()
        credentials_file = settings.BASE_DIR / "var" / "admin-credentials.txt"
        existing = users.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            where = f" (password in {credentials_file})" if credentials_file.exists() else ""
            self.stdout.write(f"Log in as '{existing.get_username()}'{where}.")
            return
        username = os.getenv("MESHKB_ADMIN_USERNAME") or "admin"
        password = os.getenv("MESHKB_ADMIN_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)
        if generated:
            credentials_file.parent.mkdir(parents=True, exist_ok=True)
            credentials_file.touch(mode=0o600)
            credentials_file.write_text(f"username: {username}\npassword: {password}\n")
            self.stdout.write(f"Created admin user '{username}' with password '{password}' (saved to {credentials_file}).")
        else:
            self.stdout.write(f"Created admin user '{username}' with the password from MESHKB_ADMIN_PASSWORD.")
