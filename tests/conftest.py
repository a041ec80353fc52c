"""The small fixed world the tests share: three demo articles and three users."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_ARTICLES = FIXTURES / "articles"
IN_CI = os.getenv("CI", "").lower() == "true"


def skip_unless_ci(reason: str):
    """Skip with a reason locally; in CI the missing part is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@pytest.fixture
def demo_catalog(db):
    call_command("loadarticles", dirs=[str(DEMO_ARTICLES)], stdout=open(os.devnull, "w"))


@pytest.fixture
def alice(django_user_model):
    """A logged-in reader with no special rights."""
    return django_user_model.objects.create_user("alice", password="alice-password")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password="sam-password", is_staff=True)


# A Kubernetes API emulator for live-cluster tests (real client, real HTTP); see tests/k8s_emulator.py.
from tests.k8s_emulator import k8s_emulator  # noqa: E402,F401
