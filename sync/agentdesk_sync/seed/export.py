"""The generated customers as an import file: one CSV row per customer, for import runs at scale.

The columns are the scalar customer attributes by their own names (lists joined with ``|``,
booleans as ``true``/``false``, empty for None) plus the generator's ``extra`` keys
(``name_pinyin``, ``name_initials``) as columns of their own, which an import keeps as extra
attributes. ``agentdesk-sync import customers FILE`` reads it without a mapping file.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from agentdesk_sync.seed.generator import generate_rows

__all__ = ["CSV_COLUMNS", "write_customers_csv"]

CSV_COLUMNS = (
    "customer_id", "msisdn", "name", "gender", "birth_date", "contact_address", "postcode",
    "id_type", "id_number", "region_code", "district_code", "brand", "sub_brand", "vip_level",
    "value_class", "credit_level", "join_date", "join_channel", "region", "number_status",
    "bundle_expiry", "is_sensitive", "sensitive_channels", "do_not_contact", "is_kpi_customer",
    "imei", "segment_id", "channel_preference", "account_manager_id",
)  # fmt: skip
_EXTRA = ("name_pinyin", "name_initials")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return str(value)


def write_customers_csv(path: Path, customers: int, seed: int, anchor: date) -> int:
    """Write ``customers`` generated customers of ``seed`` to ``path``; returns the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*CSV_COLUMNS, *_EXTRA))
        for rows in generate_rows(customers, seed, anchor):
            for row in rows.customers:
                attrs = row["attributes"]
                extra = attrs["extra"]
                writer.writerow(
                    [_text(attrs[c]) for c in CSV_COLUMNS] + [_text(extra.get(k)) for k in _EXTRA]
                )
                count += 1
    return count
