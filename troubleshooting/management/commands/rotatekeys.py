from django.db import transaction

from troubleshooting.clusters import crypto
from troubleshooting.management.base import InputError, MeshkbCommand
from troubleshooting.models import Cluster


class Command(MeshkbCommand):
    help = "Re-encrypt every stored kubeconfig with the first key of MESHKB_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for cluster in Cluster.objects.select_for_update().exclude(kubeconfig_encrypted=""):
                try:
                    cluster.kubeconfig_encrypted = crypto.rotate(cluster.kubeconfig_encrypted)
                except crypto.DecryptionError as exc:
                    raise InputError(f"cluster {cluster.name}: {exc}; nothing was changed") from None
                cluster.save(update_fields=["kubeconfig_encrypted"])
                rotated += 1
        self.stdout.write(f"re-encrypted {rotated} kubeconfig{'s' if rotated != 1 else ''} with the newest key")
