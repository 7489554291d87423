"""Folders follow the env overrides, are created on demand and fail with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.paths import ENV_VARS, PathError, Paths, resource_path, resources_root


def test_every_folder_follows_its_env_override(agentdesk_dirs: dict[str, Path]) -> None:
    paths = Paths.from_env()
    for name, var in ENV_VARS.items():
        assert paths.as_dict()[name] == agentdesk_dirs[var]


def test_defaults_come_from_the_platform_when_no_override() -> None:
    paths = Paths.from_env({})
    assert all("agentdesk" in str(p) for p in paths.as_dict().values())
    assert len(set(paths.as_dict().values())) >= 4


def test_ensure_creates_every_folder() -> None:
    paths = Paths.from_env().ensure()
    assert all(folder.is_dir() for folder in paths.as_dict().values())


def test_ensure_names_the_folder_and_the_variable_when_it_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    paths = Paths.from_env({"AGENTDESK_LOG_DIR": str(blocker / "logs")})
    with pytest.raises(PathError, match=r"log folder .*AGENTDESK_LOG_DIR"):
        paths.ensure()


def test_ensure_rejects_a_file_in_place_of_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("")
    paths = Paths.from_env({"AGENTDESK_STATE_DIR": str(blocker)})
    with pytest.raises(PathError, match="state folder"):
        paths.ensure()


def test_each_user_gets_its_own_cache_db_in_the_data_folder() -> None:
    paths = Paths.from_env()
    zhang, li = paths.user_cache_db("zhang.wei"), paths.user_cache_db("li_na")
    assert zhang != li
    assert zhang.is_relative_to(paths.data)
    assert zhang.name == "cache.db"
    assert zhang.parent.name == "zhang.wei"


@pytest.mark.parametrize("username", ["../../etc", "张伟", "a/b", "..", "x" * 200])
def test_odd_usernames_stay_inside_the_users_folder(username: str) -> None:
    paths = Paths.from_env()
    db = paths.user_cache_db(username)
    assert db.parent.parent == paths.data / "users"
    assert db.parent.name not in {".", ".."}
    assert "/" not in db.parent.name


def test_similar_odd_usernames_do_not_share_a_folder() -> None:
    paths = Paths.from_env()
    assert paths.user_cache_db("a/b") != paths.user_cache_db("a_b")
    assert paths.user_cache_db("张伟") != paths.user_cache_db("李娜")


def test_an_empty_username_is_refused() -> None:
    with pytest.raises(PathError):
        Paths.from_env().user_cache_db("")


def test_resources_are_found_from_the_source_tree() -> None:
    assert resources_root().is_dir()
    assert resource_path("i18n", "zh_CN", "LC_MESSAGES", "agentdesk.po").is_file()
