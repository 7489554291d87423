"""``python -m bench --only``: a row name that does not exist is refused before anything runs."""

from __future__ import annotations

import pytest

from bench.__main__ import main


def test_an_unknown_row_is_refused_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--only", "P10.sqlite", "--no-append"]) == 2
    err = capsys.readouterr().err
    assert "no row P10.SQLITE" in err
    assert "P1, P2" in err
