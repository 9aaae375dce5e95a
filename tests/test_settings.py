"""Settings come from MK_* variables in one place (config.py), bad values are refused with one line
at every door, all are documented, and config stands alone."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from config import REPO_ROOT, Settings, SettingsError, load_settings


def test_defaults_without_environment() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.port == 8000 and settings.host == "127.0.0.1"


def test_values_are_parsed_from_the_environment() -> None:
    settings = load_settings({"MK_PORT": "9001", "MK_STORE": "memory", "MK_DATA_DIRS": "a:b",
                              "MK_QUERY_TIMEOUT_S": "2.5", "MK_BASE_URI": "http://example.org/id/",
                              "MK_UPDATE_TIMEOUT_S": "5", "MK_CLIENT_QUERIES": "3"})
    assert settings.port == 9001
    assert settings.store == "memory"
    assert settings.data_dirs == (Path("a"), Path("b"))
    assert settings.query_timeout_s == 2.5
    assert settings.update_timeout_s == 5 and settings.client_queries == 3
    assert settings.base_uri == "http://example.org/id/"


@pytest.mark.parametrize("name, value, fragment", [
    ("MK_PORT", "eighty", "MK_PORT"),
    ("MK_STORE", "postgres", "choose"),
    ("MK_BASE_URI", "example.org/id", "http(s)"),
    ("MK_QUERY_TIMEOUT_S", "soon", "MK_QUERY_TIMEOUT_S"),
    ("MK_UPDATE_TIMEOUT_S", "0", "more than 0"),
    ("MK_CLIENT_QUERIES", "0", "1 or more"),
])
def test_bad_values_get_a_clear_message(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as caught:
        load_settings({name: value})
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith(f"{name}={value!r} is not valid: ") and "\n" not in str(caught.value)


def test_the_search_command_line_reports_a_bad_setting_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from search.cli import main

    monkeypatch.setenv("MK_PORT", "eighty")
    assert main(["gaps"]) == 1
    assert capsys.readouterr().err == "error: MK_PORT='eighty' is not valid: invalid literal for int() with base 10: 'eighty'\n"


def test_the_server_reports_a_bad_setting_in_one_line() -> None:
    """gunicorn reads web/gunicorn_conf.py first: a bad value stops it there with one line, not a traceback."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run([str(gunicorn), "--config", "web/gunicorn_conf.py"], cwd=REPO_ROOT, capture_output=True,
                            text=True, env={**os.environ, "MK_PORT": "eighty"}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: MK_PORT='eighty' is not valid: invalid literal for int() with base 10: 'eighty'"


def test_config_imports_nothing_of_the_project() -> None:
    """kg and search get plain values from the entry points (make lint checks that they never import config);
    config itself depends on none of the layers (import-linter cannot take a single module as a root)."""
    tree = ast.parse((REPO_ROOT / "config.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    project = {p.name for p in REPO_ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert {"kg", "search", "web", "ontology"} <= project
    assert not {name.split(".")[0] for name in imported} & project


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for f in fields(Settings):
        assert f.metadata["env"] in readme, f"{f.metadata['env']} missing from README.md"
        assert f.metadata["doc"]
