"""Read import files record by record with their physical line numbers.

CSV (header = line 1; a quoted field may span lines, the record then starts on its first line)
and NDJSON (one JSON object per line). A line that cannot be decoded or parsed becomes a
:class:`BadLine` instead of stopping the import.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from agentdesk_sync.db.errors import DataInputError

__all__ = ["BadLine", "Record", "read_records"]


class Record:
    """One source record: its first physical line and its values by source column.

    ``values["line"]`` is the line number too, so mapping defaults can use ``{line}``. A CSV
    record also keeps its raw ``fields`` and the file's ``header`` (the same list for every
    record of the file), and builds ``values`` from them only when it is asked for: the
    customer bulk path reads the fields by position and never needs the dict.
    """

    __slots__ = ("_values", "fields", "header", "line")

    def __init__(
        self, line: int, values: dict[str, Any] | None = None,
        fields: list[str] | None = None, header: list[str] | None = None,
    ) -> None:  # fmt: skip
        """A record from its values, or (CSV) from its fields and the header."""
        self.line = line
        self._values = values
        self.fields = fields
        self.header = header

    @property
    def values(self) -> dict[str, Any]:
        """The values by source column (``line`` included)."""
        values = self._values
        if values is None:
            values = dict(zip(self.header or (), self.fields or (), strict=False))
            values.setdefault("line", self.line)  # a source column named "line" keeps its value
            self._values = values
        return values

    def __eq__(self, other: object) -> bool:
        """Same line and values."""
        if not isinstance(other, Record):
            return NotImplemented
        return self.line == other.line and self.values == other.values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """``Record(line=…, values=…)``."""
        return f"Record(line={self.line!r}, values={self.values!r})"


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
    skipped: list[int] = field(default_factory=list)


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


_BLOCK = 1 << 20


def _blocks(handle: BinaryIO, encoding: str, state: _LineState) -> Iterator[list[str]]:
    """The file's decoded lines, about a megabyte at a time (one decode per block, far cheaper
    than one per line). A block that does not decode is taken line by line: its bad lines
    become :class:`BadLine` s (in ``state.bad``) and are left out; ``state.skipped`` notes, for
    each, how many good lines came before it, so physical line numbers can be worked out."""
    good = 0
    physical = 0
    while True:
        block = handle.read(_BLOCK)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += handle.readline()
        state.bytes_read += len(block)
        try:
            text = block.decode(encoding)
        except UnicodeDecodeError:
            lines = []
            pieces = block.split(b"\n")
            raws = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
            for raw in raws:
                physical += 1
                try:
                    lines.append(raw.decode(encoding))
                except UnicodeDecodeError:
                    shown = raw.rstrip(b"\r\n").decode(encoding, errors="backslashreplace")[:200]
                    state.bad.append(BadLine(physical, shown, f"not valid {encoding} text"))
                    state.skipped.append(good + len(lines))
            good += len(lines)
            yield lines
            continue
        parts = text.split("\n")
        if parts[-1]:
            lines = [p + "\n" for p in parts[:-1]]
            lines.append(parts[-1])
        else:
            lines = [p + "\n" for p in parts[:-1]]
        good += len(lines)
        physical += len(lines)
        yield lines


def _csv(handle: BinaryIO, encoding: str, delimiter: str, state: _LineState) -> Iterator[Any]:
    reader = csv.reader(
        itertools.chain.from_iterable(_blocks(handle, encoding, state)),
        delimiter=delimiter, strict=True,
    )  # fmt: skip
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise DataInputError("The import file is empty (it needs a header line).") from None
    width = len(header)
    skipped = state.skipped
    passed = 0  # bad lines before the current record
    done = reader.line_num  # good lines read so far

    def physical(good_line: int) -> int:
        nonlocal passed
        while passed < len(skipped) and skipped[passed] < good_line:
            passed += 1
        return good_line + passed

    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = physical(done + 1)
            done = reader.line_num
            yield from _drain_before(state, line + 1)
            yield BadLine(line, "", f"malformed CSV: {exc}")
            continue
        line = physical(done + 1) if skipped else done + 1
        done = reader.line_num
        if state.bad:
            yield from _drain_before(state, line)
        if len(values) != width:
            if not "".join(values).strip():
                continue
            shown = delimiter.join(values)[:200]
            yield BadLine(line, shown, f"{len(values)} fields where the header has {width}")
            continue
        if not values[0].strip() and not "".join(values).strip():
            continue  # a blank record
        yield Record(line, None, values, header)


def _drain_before(state: _LineState, line: int) -> Iterator[BadLine]:
    """The undecodable lines found so far that come before ``line``."""
    while state.bad and state.bad[0].line < line:
        yield state.bad.pop(0)


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
