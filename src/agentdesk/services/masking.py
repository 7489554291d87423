"""PII masking by role: phone and ID numbers are shown in full only to roles allowed to."""

from __future__ import annotations

from agentdesk.domain import Role

__all__ = ["mask_id_number", "mask_phone", "show_id_number", "show_phone"]


def mask_phone(msisdn: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(msisdn) < 8:
        return "*" * len(msisdn)
    return f"{msisdn[:3]}****{msisdn[-4:]}"


def mask_id_number(id_number: str) -> str:
    """``440106199001011234`` → ``4401**********1234``."""
    if len(id_number) < 9:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def show_phone(msisdn: str, role: Role) -> str:
    """The phone as ``role`` may see it."""
    return msisdn if role.sees_full_pii else mask_phone(msisdn)


def show_id_number(id_number: str, role: Role) -> str:
    """The ID number as ``role`` may see it."""
    return id_number if role.sees_full_pii else mask_id_number(id_number)
