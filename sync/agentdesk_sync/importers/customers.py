"""Customer records → wire rows, fast: one plan per header, plain dicts instead of dataclasses.

:func:`agentdesk_sync.importers.kinds.prepare` builds ``CustomerView`` objects and lets msgspec
validate them; that costs ~200 µs a record. Here a :class:`CustomerPlan` is made once per set
of source columns: for every column it knows the field it feeds and how to check it, and the
wire row is a template (the ``to_row`` form of an empty customer) overlaid with the stored row
and the typed values. The result is the same row the slow path gives (a test compares both);
records the plan cannot check itself (non-text values from NDJSON, ``value.*``/``churn.*``
columns, dict fields, non-text defaults) take the slow path.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

import orjson

from agentdesk.domain import ChurnInfo, CustomerAttributes, CustomerView, ValueInfo
from agentdesk.protocol import to_row
from agentdesk_sync.importers.fields import FieldError, FieldSpec, coerce, field_specs
from agentdesk_sync.importers.kinds import Prepared, prepare
from agentdesk_sync.importers.mapping import Mapping

__all__ = ["CustomerPlan", "plan_for"]

Row = dict[str, Any]
Check = Callable[[str], Any]
_VIEW: Row = orjson.loads(
    orjson.dumps(
        to_row(CustomerView(attributes=CustomerAttributes(customer_id="", msisdn="", name="")))
    )
)
_ATTRS: Row = _VIEW["attributes"]
_REQUIRED = tuple(n for n, s in field_specs(CustomerAttributes).items() if s.required)
_FAST_KINDS = frozenset({"str", "bool", "enum", "date", "datetime", "list"})
_COLUMNS = ("msisdn", "name", "id_type", "id_number", "region_code", "segment_id",
            "account_manager_id", "contact_address")  # fmt: skip


def _list_choices() -> dict[str, frozenset[str]]:
    """Allowed item values of the enum-typed list fields (``sensitive_channels`` …)."""
    hints = typing.get_type_hints(CustomerAttributes)
    choices = {}
    for name, spec in field_specs(CustomerAttributes).items():
        if spec.kind != "list":
            continue
        item = typing.get_args(hints[name])[0]
        if isinstance(item, type) and issubclass(item, Enum):
            choices[name] = frozenset(str(m.value) for m in item)
    return choices


_LIST_CHOICES = _list_choices()


_MISSING = object()


def _checker(
    name: str, source: str, spec: FieldSpec, mapping: Mapping
) -> tuple[Check, dict[str, Any]]:
    """A function from stripped, non-empty source text to the field's wire value, and the memo
    of the values it has worked out (lists kept as tuples: the caller copies them)."""
    allowed = _LIST_CHOICES.get(name)
    memo: dict[str, Any] = {}
    remember = spec.kind in ("enum", "bool", "date", "list")

    def check(text: str) -> Any:
        value = memo.get(text, _MISSING)
        if value is not _MISSING:
            return list(value) if value.__class__ is tuple else value
        try:
            value = coerce(name, text, spec, mapping)
        except FieldError as exc:
            raise FieldError(source, exc.reason) from None
        if allowed is not None:
            bad = [item for item in value if item not in allowed]
            if bad:
                raise FieldError(source, f"{bad[0]!r} is not one of {', '.join(sorted(allowed))}")
        if remember and len(memo) < 100_000:
            memo[text] = tuple(value) if value.__class__ is list else value
        return value

    return check, memo


class CustomerPlan:
    """How to turn records with one set of source columns into customer wire rows."""

    def __init__(self, keys: tuple[str, ...], mapping: Mapping) -> None:
        """Plan for records whose source columns are ``keys`` (``line`` included)."""
        self.mapping = mapping
        present = set(keys)
        self.columns: list[tuple[str, str, Check, dict[str, Any]]] = []
        self.text_columns: list[tuple[str, str]] = []
        self.defaulted: list[tuple[str, Check]] = []
        self.fast = True
        used = set(mapping.columns.values())
        for name, spec in field_specs(CustomerAttributes).items():
            source = mapping.source_of(name)
            used.add(source)
            if source in present:
                self.fast &= spec.kind in _FAST_KINDS
                if spec.kind == "str":
                    self.text_columns.append((source, name))
                else:
                    self.columns.append((source, name, *_checker(name, source, spec, mapping)))
            elif name in mapping.defaults:
                self.fast &= spec.kind in _FAST_KINDS and isinstance(mapping.defaults[name], str)
                self.defaulted.append((name, _checker(name, source, spec, mapping)[0]))
        for cls, prefix in ((ValueInfo, "value."), (ChurnInfo, "churn.")):
            for name in field_specs(cls):
                ours = prefix + name
                if mapping.source_of(ours) in present or ours in mapping.defaults:
                    self.fast = False
        self.extra = [k for k in keys if k not in used and k != "line"]
        self.key_source = mapping.source_of("customer_id")
        # per CSV header: how its new customers are written from their fields
        # (:mod:`agentdesk_sync.importers.rowtext`), kept with the plan so its memos last
        self.new_rows: dict[tuple[str, ...], Any] = {}

    def prepare(self, values: Row, existing: Row | None) -> Prepared:
        """The record as a :class:`Prepared` customer, overlaid on ``existing`` (None: new).

        Raises:
            FieldError: The record cannot be imported (source column and reason).
        """
        if not self.fast:
            return prepare("customers", values, self.mapping, existing)
        # the typed values go straight into the attributes (every field is a key of _ATTRS
        # already, so the key order stays that of the template)
        if existing is None:
            base_attrs = _ATTRS
            attrs = _ATTRS.copy()
        else:
            base_attrs = existing["attributes"]
            attrs = {**_ATTRS, **base_attrs}
        try:
            for source, name in self.text_columns:
                text = values[source].strip()
                if text:
                    attrs[name] = text
            for source, name, check, memo in self.columns:
                text = values[source].strip()
                if text:
                    value = memo.get(text, _MISSING)  # inline: most values repeat
                    if value is _MISSING or value.__class__ is tuple:
                        value = check(text)
                    attrs[name] = value
        except AttributeError:  # a value that is not text (NDJSON): let msgspec check it
            return prepare("customers", values, self.mapping, existing)
        for name, check in self.defaulted:
            text = str(self.mapping.default(name, values)).strip()
            if text:
                attrs[name] = check(text)
        for name in _REQUIRED:
            if attrs[name] in (None, ""):
                raise FieldError(name, "required field is missing")
        extra = dict(base_attrs.get("extra") or {})
        for key in self.extra:
            value = values[key]
            if value is not None and value != "":
                extra[key] = value if value.__class__ is str else str(value)
        attrs["extra"] = extra
        row = dict(_VIEW)
        if existing is not None:
            for part in ("value", "churn", "holding_stats", "behaviour_stats", "row_seq"):
                if part in existing:
                    row[part] = existing[part]
        row["attributes"] = attrs
        columns = {c: attrs[c] for c in _COLUMNS}
        return Prepared(attrs["customer_id"], row, attrs["customer_id"], columns)


def plan_for(
    plans: dict[tuple[str, ...], CustomerPlan], values: Row, mapping: Mapping
) -> CustomerPlan:
    """The (cached) plan for a record's set of source columns."""
    keys = tuple(values)
    plan = plans.get(keys)
    if plan is None:
        plan = plans[keys] = CustomerPlan(keys, mapping)
    return plan
