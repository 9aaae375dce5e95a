"""What an app is built over: the store and the search matchers handed to create_app, or the ones settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.store import Store
from tests.conftest import BASE, TINY
from web.app import create_app
from web.errors import SearchUnavailable
from web.services import Services


@pytest.fixture
def index_settings(tmp_path: Path) -> Settings:
    return Settings(data_dirs=(TINY,), store="memory", index_path=tmp_path / "index")


def test_a_handed_in_store_is_the_one_served(index_settings: Settings, tiny_store: Store) -> None:
    assert Services(index_settings, tiny_store, matchers={}).store is tiny_store


def test_handed_in_matchers_are_the_whole_of_search(index_settings: Settings, tiny_store: Store) -> None:
    services = Services(index_settings, tiny_store, matchers={})
    for audience in (PUBLIC, INTERNAL):
        with pytest.raises(SearchUnavailable):
            services.matcher(audience)
        assert services.similar(f"{BASE}programme/storage-mjp", audience) == ()
    assert not index_settings.index_path.exists()  # no index opened, none built for this store


def test_an_app_without_search_answers_503(index_settings: Settings, tiny_store: Store) -> None:
    client = create_app(index_settings, store=tiny_store, matchers={}).test_client()
    response = client.get("/api/search", query_string={"q": "energy storage"})
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert not index_settings.index_path.exists()
