"""Phone and ID numbers are masked for every role except those allowed to see them."""

from __future__ import annotations

import pytest

from agentdesk.domain import Role
from agentdesk.services.masking import mask_id_number, mask_phone, show_id_number, show_phone


def test_phone_keeps_prefix_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_id_number_keeps_region_and_last_four() -> None:
    assert mask_id_number("44010619900101123X") == "4401**********123X"


@pytest.mark.parametrize("role", [Role.CALL_CENTRE, Role.STORE, Role.SUPERVISOR])
def test_frontline_roles_see_masked_numbers(role: Role) -> None:
    assert show_phone("13812345678", role) == "138****5678"
    assert "*" in show_id_number("440106199001011234", role)


@pytest.mark.parametrize("role", [Role.FIELD, Role.ADMIN])
def test_roles_with_full_pii_see_the_numbers(role: Role) -> None:
    assert show_phone("13812345678", role) == "13812345678"
    assert show_id_number("440106199001011234", role) == "440106199001011234"
