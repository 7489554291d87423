"""The import file reader: physical line numbers whatever the blocks the file is decoded in."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk_sync.importers import reader
from agentdesk_sync.importers.reader import BadLine, Record, read_records

LINES = [
    b"id,name,note\n",
    b"1,a,plain\n",
    b'2,b,"spans\nthree\nlines"\n',
    b"\n",
    b"3,\xff\xfe,bad text\n",
    b"4,d,too,many\n",
    b'5,e,"unterminated" quote"\n',
    b"6,f,\xe4\xb8\xad\xe6\x96\x87\n",
    b"7,g,last line without a break",
]


def _read(path: Path) -> list[tuple[int, str]]:
    out = []
    for item, _done in read_records(path):
        if isinstance(item, Record):
            out.append((item.line, f"id={item.values['id']}"))
        else:
            assert isinstance(item, BadLine)
            out.append((item.line, item.reason))
    return sorted(out)


@pytest.mark.parametrize("block", [7, 40, 1 << 20])
def test_records_and_bad_lines_keep_their_physical_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(reader, "_BLOCK", block)
    source = tmp_path / "c.csv"
    source.write_bytes(b"".join(LINES))
    assert _read(source) == [
        (2, "id=1"),
        (3, "id=2"),
        (7, "not valid utf-8 text"),
        (8, "4 fields where the header has 3"),
        (9, "malformed CSV: ',' expected after '\"'"),
        (10, "id=6"),
        (11, "id=7"),
    ]


def test_a_multi_line_value_keeps_its_line_breaks(tmp_path: Path) -> None:
    source = tmp_path / "c.csv"
    source.write_bytes(b"".join(LINES[:3]))
    values = [item.values for item, _ in read_records(source) if isinstance(item, Record)]
    assert values[1]["note"] == "spans\nthree\nlines"
    assert values[1]["line"] == 3
