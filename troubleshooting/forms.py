from django import forms
from django.conf import settings

from .catalog.vocabulary import CATEGORIES, COMPONENTS, SEVERITIES


def _choices(vocabulary: dict, everything: str) -> list[tuple[str, str]]:
    return [("", everything)] + list(vocabulary.items())


class CatalogFilterForm(forms.Form):
    """The catalog filters, shared by the page and the JSON API."""

    category = forms.ChoiceField(choices=_choices(CATEGORIES, "All categories"), required=False)
    severity = forms.ChoiceField(choices=_choices(SEVERITIES, "Any severity"), required=False)
    component = forms.ChoiceField(choices=_choices(COMPONENTS, "Any component"), required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False)

    def filters(self) -> dict:
        return {key: self.cleaned_data.get(key) or "" for key in ("category", "severity", "component")}


class SearchForm(forms.Form):
    """A pasted error. Any text is accepted; the search cuts very long pastes itself."""

    q = forms.CharField(required=False, strip=False)
    limit = forms.IntegerField(min_value=1, max_value=50, required=False)

    def query(self) -> str:
        return self.cleaned_data.get("q") or ""


class ClusterForm(forms.Form):
    """Add or edit a cluster. A stored kubeconfig is never shown; leave the field empty to keep it."""

    name = forms.SlugField(max_length=63)
    source = forms.ChoiceField(choices=[
        ("kubeconfig", "Kubeconfig"), ("in-cluster", "In-cluster service account"), ("snapshot", "Uploaded snapshot"),
    ])
    kubeconfig_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}), required=False,
                                      label="Kubeconfig (paste)", strip=False)
    kubeconfig_file = forms.FileField(required=False, label="or upload a kubeconfig file")
    context = forms.CharField(max_length=253, required=False, help_text="Leave empty for the kubeconfig's current-context.")
    snapshot_file = forms.FileField(required=False, label="Snapshot (kubectl get -o yaml|json)")
    scan_interval = forms.IntegerField(min_value=1, max_value=10080, initial=15, label="Scan every (minutes)")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["name"].disabled = True

    def clean_name(self):
        from troubleshooting.models import Cluster

        name = self.cleaned_data["name"].lower()
        taken = Cluster.objects.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A cluster named {name} exists.")
        return name

    def kubeconfig_bytes(self) -> bytes | None:
        """The uploaded or pasted kubeconfig (read once: an upload is a stream)."""
        if not hasattr(self, "_kubeconfig"):
            upload = self.cleaned_data.get("kubeconfig_file")
            text = self.cleaned_data.get("kubeconfig_text") or ""
            if upload:
                self._kubeconfig = upload.read(settings.MESHKB_MAX_KUBECONFIG_BYTES + 1)
            else:
                self._kubeconfig = text.encode("utf-8") if text.strip() else None
        return self._kubeconfig

    def snapshot_upload(self) -> tuple[bytes, str] | None:
        upload = self.cleaned_data.get("snapshot_file")
        if not upload:
            return None
        if upload.size > settings.MESHKB_MAX_SNAPSHOT_BYTES:
            raise forms.ValidationError(
                f"snapshot {upload.name}: too large ({upload.size:,} bytes; the limit is "
                f"{settings.MESHKB_MAX_SNAPSHOT_BYTES:,})"
            )
        return upload.read(), upload.name


class SuppressionForm(forms.Form):
    SCOPES = [("finding", "Only this finding"), ("namespace", "This rule in this namespace"), ("rule", "This rule everywhere on this cluster")]

    scope = forms.ChoiceField(choices=SCOPES, initial="finding")
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    expires_at = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_expires_at(self):
        from datetime import timedelta

        from django.utils import timezone

        day = self.cleaned_data["expires_at"]
        today = timezone.localdate()
        if day <= today:
            raise forms.ValidationError("Choose a date after today.")
        if day > today + timedelta(days=366):
            raise forms.ValidationError("Suppress for at most a year, then look again.")
        return day


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'grafana' or 'ci-report'.")
