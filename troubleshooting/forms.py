from django import forms

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
