"""``agentdesk-sync``: exit codes 0/1/2 and one sentence on stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from agentdesk_sync.cli import main
from agentdesk_sync.db.engine import make_engine


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://u@h/db", "scheme 'mysql' is not supported"),
        ("postgresql://u:secret@127.0.0.1:1/x", "nothing is listening"),
    ],
)
def test_bad_db_url_is_one_sentence(
    url: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["migrate", "--db", url], capsys)
    assert code == 1
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "secret" not in err


def test_unwritable_sqlite_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run(["migrate", "--db", f"sqlite:///{blocker}/x/central.db"], capsys)
    assert code == 1
    assert err.startswith("Cannot create the database folder")


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["no-such-command"], capsys)[0] == 2
    assert _run(["seed", "--customers", "zero"], capsys)[0] == 2
    assert (
        _run(["create-user", "--username", "u", "--password", "p", "--role", "boss"], capsys)[0]
        == 2
    )


def test_env_var_selects_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENTDESK_SYNC_DB", f"sqlite:///{tmp_path}/env.db")
    code, out, _ = _run(["migrate"], capsys)
    assert code == 0
    assert "revision" in out
    assert (tmp_path / "env.db").exists()


def test_seed_then_seed_again_is_a_no_op(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["seed", "--db", db_url, "--customers", "120", "--seed", "9", "--anchor", "2026-11-26"]
    code, out, _ = _run(args, capsys)
    assert code == 0
    assert "customer=120" in out
    code, out, _ = _run(args, capsys)
    assert code == 0
    assert "nothing to do" in out
    code, _, err = _run([*args[:4], "121", *args[5:]], capsys)
    assert code == 1
    assert "already seeded" in err


def test_seed_csv_then_import_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "customers.csv"
    args = ["seed", "--customers", "60", "--seed", "3", "--anchor", "2026-11-26", "--csv"]
    code, out, _ = _run([*args, str(source)], capsys)
    assert (code, out.strip()) == (0, f"Wrote 60 customers to {source}.")
    url = f"sqlite:///{tmp_path}/c.db"
    code, out, _ = _run(["import", "customers", str(source), "--db", url], capsys)
    assert (code, out.strip()) == (0, "imported=60 updated=0 unchanged=0 rejected=0")
    code, _, err = _run([*args, str(tmp_path / "missing" / "x.csv")], capsys)
    assert code == 1
    assert "Cannot write" in err


def test_create_user_with_portfolio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    portfolio = tmp_path / "portfolio.txt"
    portfolio.write_text("C00000001\nC00000002\n\n")
    code, out, _ = _run(
        ["create-user", "--db", url, "--username", "am_440100_1", "--password", "pw",
         "--role", "field", "--portfolio-file", str(portfolio)],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert "am_440100_1" in out
    engine = make_engine(url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT customer_id FROM portfolio ORDER BY 1")).scalars().all()
    engine.dispose()
    assert held == ["C00000001", "C00000002"]


def test_missing_portfolio_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["create-user", "--db", f"sqlite:///{tmp_path}/c.db", "--username", "x",
         "--password", "pw", "--role", "field", "--portfolio-file", str(tmp_path / "none.txt")],
        capsys,
    )  # fmt: skip
    assert code == 1
    assert "Cannot read the portfolio file" in err


def test_console_script_exit_status(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from agentdesk_sync.cli import main; sys.exit(main())",
         "migrate", "--db", "oracle://x"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("The database URL scheme")


def test_field_user_gets_the_customers_they_manage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    assert main(["seed", "--db", url, "--customers", "400", "--anchor", "2026-11-26"]) == 0
    engine = make_engine(url)
    with engine.connect() as conn:
        manager, managed = conn.execute(
            text("SELECT account_manager_id, count(*) FROM customer WHERE account_manager_id"
                 " IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        ).one()  # fmt: skip
    capsys.readouterr()
    code = main(["create-user", "--db", url, "--username", manager, "--password", "pw",
                 "--role", "field"])  # fmt: skip
    assert code == 0
    assert f"with {managed} customers" in capsys.readouterr().out
    with engine.connect() as conn:
        held = conn.execute(text(f"SELECT count(*) FROM portfolio WHERE user_id = '{manager}'"))
        assert held.scalar() == managed
    engine.dispose()
