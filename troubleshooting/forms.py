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

    def first_error(self) -> str:
        """One line naming the bad parameter, e.g. ``severity: Select a valid choice...``."""
        field, errors = next(iter(self.errors.items()))
        return f"{field}: {errors[0]}"
