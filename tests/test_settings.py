"""Settings come from MK_* variables in one place, bad values are refused, all are documented."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from kg.errors import KgError
from kg.settings import REPO_ROOT, Settings, load_settings


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
    with pytest.raises(KgError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_settings({name: value})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for f in fields(Settings):
        assert f.metadata["env"] in readme, f"{f.metadata['env']} missing from README.md"
        assert f.metadata["doc"]
