"""A date before every loaded policy is a domain error naming the date, not a LookupError traceback."""
from __future__ import annotations

from datetime import date

import pytest

from domain.errors import DomainError, EffectiveDateInvalid
from domain.policy import NoPolicyInForce, Policy, policy_in_force

POLICY_2025 = Policy("2025.1", date(2025, 1, 1), {})


def test_the_newest_policy_started_on_or_before_the_day_is_in_force():
    newer = Policy("2026.1", date(2026, 1, 13), {})
    assert policy_in_force([POLICY_2025, newer], date(2026, 1, 12)) is POLICY_2025
    assert policy_in_force([POLICY_2025, newer], date(2026, 1, 13)) is newer


def test_a_day_before_every_policy_is_an_italian_domain_error_naming_the_day():
    with pytest.raises(NoPolicyInForce) as caught:
        policy_in_force([POLICY_2025], date(2019, 3, 15))
    assert isinstance(caught.value, DomainError) and isinstance(caught.value, EffectiveDateInvalid)
    assert "15/03/2019" in str(caught.value) and "nessuna politica in vigore" in str(caught.value)
    assert "01/01/2025" in str(caught.value)  # where the policies start


def test_with_no_policy_loaded_at_all_the_error_says_so():
    with pytest.raises(NoPolicyInForce, match="nessuna politica caricata"):
        policy_in_force([], date(2026, 1, 1))
