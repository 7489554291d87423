"""Turn source text into typed field values of a domain dataclass, with reasons for failures.

Field kinds come from the dataclass annotations (date, datetime, bool, int, float, list, enum,
dict, str). The final check is ``msgspec.convert`` on the dataclass, whose error path names the
field that failed.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, cast

import msgspec

from agentdesk_sync.importers.mapping import Mapping

__all__ = ["FieldError", "FieldSpec", "coerce", "field_specs", "validate"]

T = TypeVar("T")
_TRUE = {"true", "yes", "y", "1", "t", "是", "有"}
_FALSE = {"false", "no", "n", "0", "f", "否", "无"}
_PATH = re.compile(r"at `\$\.([A-Za-z0-9_]+)")


class FieldError(ValueError):
    """A value that does not fit its field: ``field`` and a one-line ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        """Remember the field and the reason."""
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclasses.dataclass(frozen=True, slots=True)
class FieldSpec:
    """What a dataclass field accepts."""

    kind: str
    required: bool
    choices: tuple[str, ...] = ()


def _kind(hint: Any) -> tuple[str, tuple[str, ...]]:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _kind(inner[0])
    if origin is tuple or origin is list:
        return "list", ()
    if origin is dict:
        return "dict", ()
    if isinstance(hint, type) and issubclass(hint, Enum):
        return "enum", tuple(str(m.value) for m in hint)
    names = {datetime: "datetime", date: "date", bool: "bool", int: "int", float: "float"}
    return names.get(hint, "str"), ()


@cache
def field_specs(cls: Any) -> dict[str, FieldSpec]:
    """Every field of dataclass ``cls`` with its kind and whether it must be given."""
    hints = typing.get_type_hints(cls)
    specs = {}
    for f in dataclasses.fields(cls):
        kind, choices = _kind(hints[f.name])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        specs[f.name] = FieldSpec(kind, required, choices)
    return specs


def _parse_date(text: str, mapping: Mapping) -> str:
    if mapping.date_format:
        return datetime.strptime(text, mapping.date_format).date().isoformat()
    return date.fromisoformat(text).isoformat()


def _parse_datetime(text: str, mapping: Mapping) -> str:
    if mapping.datetime_format:
        parsed = datetime.strptime(text, mapping.datetime_format)
    else:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _scalar(name: str, text: str, spec: FieldSpec, mapping: Mapping) -> Any:
    kind = spec.kind
    if kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise FieldError(name, f"not a yes/no value: {text!r}")
    if kind == "enum":
        for choice in spec.choices:
            if choice.lower() == text.lower():
                return choice
        raise FieldError(name, f"not one of {', '.join(spec.choices)}")
    if kind == "list":
        return [part.strip() for part in text.split(mapping.list_separator) if part.strip()]
    if kind in ("date", "datetime", "int", "float"):
        try:
            return _number_or_time(kind, text, mapping)
        except ValueError:
            expected = {
                "date": mapping.date_format or "YYYY-MM-DD",
                "datetime": mapping.datetime_format or "ISO 8601",
            }.get(kind, "number")
            raise FieldError(name, f"not a valid {kind} ({expected})") from None
    return text


def _number_or_time(kind: str, text: str, mapping: Mapping) -> Any:
    if kind == "date":
        return _parse_date(text, mapping)
    if kind == "datetime":
        return _parse_datetime(text, mapping)
    if kind == "int":
        number = float(text)
        if not number.is_integer():
            raise ValueError(text)
        return int(number)
    return float(text)


def coerce(name: str, raw: Any, spec: FieldSpec, mapping: Mapping) -> Any:
    """The typed value of ``raw`` for field ``name`` (None when empty).

    Raises:
        FieldError: ``raw`` does not fit the field.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text:
        return None
    return _scalar(name, text, spec, mapping)


def validate(values: dict[str, Any], cls: type[T], optional: tuple[str, ...] = ()) -> T:
    """Build ``cls`` from typed values, naming the field that fails.

    Args:
        values: Typed values by field name.
        cls: The domain dataclass.
        optional: Required fields that may nevertheless be empty.

    Raises:
        FieldError: A required field is missing or a value has the wrong type.
    """
    for name, spec in field_specs(cast(Any, cls)).items():
        if spec.required and name not in optional and values.get(name) in (None, ""):
            raise FieldError(name, "required field is missing")
    try:
        return msgspec.convert(values, cls, strict=False)
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        field = match.group(1) if match else ""
        raise FieldError(field, str(exc).split(" - at ")[0]) from None
