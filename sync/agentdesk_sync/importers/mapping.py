"""The import mapping file (TOML): ``[columns]``, ``[defaults]``, ``[options]``.

``[columns]`` maps our field name (docs/domain.md) to a source column; a source column that already
has our field's name maps by itself. ``[defaults]`` gives constants for fields the file lacks.
Text defaults may be templates: ``"T{line:07d}"`` gives every record its own value.
``[options]`` may set ``delimiter``, ``encoding``, ``date_format`` (``strptime`` pattern) and
``list_separator`` (for list fields, default ``|``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentdesk_sync.db.errors import DataInputError

__all__ = ["Mapping", "load_mapping"]

_OPTIONS = {"delimiter", "encoding", "date_format", "datetime_format", "list_separator"}


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file."""

    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    delimiter: str = ","
    encoding: str = "utf-8"
    date_format: str | None = None
    datetime_format: str | None = None
    list_separator: str = "|"
    plans: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def source_of(self, our_field: str) -> str:
        """The source column that feeds ``our_field``."""
        return self.columns.get(our_field, our_field)

    def default(self, our_field: str, values: dict[str, Any]) -> Any:
        """The ``[defaults]`` value of ``our_field`` for one record (None when there is none).

        A text default may use ``{line}`` (the record's first line) and ``{column}`` (a source
        value), with ``str.format`` syntax: ``customer_id = "T{line:07d}"``.
        """
        value = self.defaults.get(our_field)
        if isinstance(value, str) and "{" in value:
            try:
                return value.format_map(values)
            except (KeyError, ValueError, IndexError) as exc:
                raise DataInputError(
                    f"The default {our_field} = {value!r} cannot be filled in: {exc}."
                ) from None
        return value


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise DataInputError(f"The mapping file {path} has a [{name}] that is not a table.")
    return value


def load_mapping(path: Path | None) -> Mapping:
    """Read a mapping file (None: the identity mapping with default options).

    Raises:
        DataInputError: The file cannot be read or is not a valid mapping.
    """
    if path is None:
        return Mapping()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataInputError(f"Cannot read the mapping file {path}: {exc.strerror}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataInputError(f"The mapping file {path} is not valid TOML: {exc}.") from None
    columns = _table(data, "columns", path)
    options = _table(data, "options", path)
    unknown = set(options) - _OPTIONS
    if unknown:
        raise DataInputError(f"The mapping file {path} has unknown options: {sorted(unknown)}.")
    if not all(isinstance(v, str) for v in columns.values()):
        raise DataInputError(f"Every [columns] entry of {path} must name a source column.")
    text_options: dict[str, Any] = {k: str(v) for k, v in options.items()}
    return Mapping(
        columns=dict(columns), defaults=dict(_table(data, "defaults", path)), **text_options
    )
