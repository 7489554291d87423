"""Read import files record by record with their physical line numbers.

CSV (header = line 1; a quoted field may span lines, the record then starts on its first line)
and NDJSON (one JSON object per line). A line that cannot be decoded or parsed becomes a
:class:`BadLine` instead of stopping the import.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from agentdesk_sync.db.errors import DataInputError

__all__ = ["BadLine", "Record", "read_records"]


@dataclass(frozen=True, slots=True)
class Record:
    """One source record: its first physical line and its values by source column.

    ``values["line"]`` is the line number too, so mapping defaults can use ``{line}``.
    """

    line: int
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read."""

    line: int
    value: str
    reason: str


@dataclass
class _LineState:
    consumed: list[int] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    bytes_read: int = 0


def _decoded(handle: BinaryIO, encoding: str, state: _LineState) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        state.bytes_read += len(raw)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            shown = raw.rstrip(b"\r\n").decode(encoding, errors="backslashreplace")[:200]
            state.bad.append(BadLine(number, shown, f"not valid {encoding} text"))
            continue
        state.consumed.append(number)
        yield text


def _csv(handle: BinaryIO, encoding: str, delimiter: str, state: _LineState) -> Iterator[Any]:
    reader = csv.reader(_decoded(handle, encoding, state), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise DataInputError("The import file is empty (it needs a header line).") from None
    state.consumed.clear()
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = state.consumed[0] if state.consumed else 0
            state.bad.append(BadLine(line, "", f"malformed CSV: {exc}"))
            state.consumed.clear()
            continue
        yield from _drain(state)
        line = state.consumed[0] if state.consumed else 0
        state.consumed.clear()
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            shown = delimiter.join(values)[:200]
            yield BadLine(line, shown, f"{len(values)} fields where the header has {len(header)}")
            continue
        record: dict[str, Any] = dict(zip(header, values, strict=False))  # same length
        record.setdefault("line", line)  # a source column named "line" keeps its value
        yield Record(line, record)


def _ndjson(handle: BinaryIO, encoding: str, state: _LineState) -> Iterator[Any]:
    for text in _decoded(handle, encoding, state):
        yield from _drain(state)
        line = state.consumed.pop()
        if not text.strip():
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield BadLine(line, text.strip()[:200], f"not valid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield BadLine(line, text.strip()[:200], "not a JSON object")
            continue
        yield Record(line, {"line": line, **value})
    yield from _drain(state)


def _drain(state: _LineState) -> Iterator[BadLine]:
    while state.bad:
        yield state.bad.pop(0)


def read_records(
    path: Path, *, delimiter: str = ",", encoding: str = "utf-8"
) -> Iterator[tuple[Record | BadLine, int]]:
    """Every record (or bad line) of ``path`` with the bytes read so far.

    Raises:
        DataInputError: The file cannot be opened or has no header.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataInputError(f"Cannot read the import file {path}: {exc.strerror}.") from None
    state = _LineState()
    ndjson = path.suffix.lower() in (".ndjson", ".jsonl")
    with handle:
        items = (
            _ndjson(handle, encoding, state) if ndjson else _csv(handle, encoding, delimiter, state)
        )
        for item in items:
            yield item, state.bytes_read
        for item in _drain(state):
            yield item, state.bytes_read
