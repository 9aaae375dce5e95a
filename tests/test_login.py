"""Signing in from a browser: a Kernteam token in an HttpOnly cookie reads internal data; the
cookie never allows writes; a wrong or stale token does not sign in."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from tests.conftest import FIXTURES, TINY, app_over
from web.auth import COOKIE

KERNTEAM, ADMIN = "kernteam-login-token", "admin-login-token"
DRAFT_QUERY = "ASK { <https://w3id.org/missiekompas/id/programme/secret-mjp> ?p ?o }"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(data_dirs=(TINY, FIXTURES / "internal"), store="memory", internal_tokens=(KERNTEAM,),
                    admin_tokens=(ADMIN,))


@pytest.fixture(scope="module")
def app(settings: Settings) -> Flask:
    return app_over(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sees_the_draft(client: FlaskClient) -> bool:
    response = client.get("/sparql", query_string={"query": DRAFT_QUERY}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    return bool(response.get_json()["boolean"])


def test_the_form_is_labelled_and_escaped(client: FlaskClient) -> None:
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<label for="token">' in page and 'type="password"' in page


def test_signing_in_shows_internal_data_until_signing_out(client: FlaskClient) -> None:
    assert not sees_the_draft(client)
    response = client.post("/login", data={"token": KERNTEAM})
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert sees_the_draft(client)
    assert "Kernteam (signed in)" in client.get("/login?lang=en").get_data(as_text=True)
    client.post("/logout")
    assert not sees_the_draft(client)


@pytest.mark.parametrize(("token", "status"), [("", 400), ("not-a-token", 403)])
def test_a_wrong_token_does_not_sign_in(client: FlaskClient, token: str, status: int) -> None:
    response = client.post("/login?lang=en", data={"token": token})
    assert response.status_code == status
    assert not any("mk_token" in c for c in response.headers.getlist("Set-Cookie"))
    assert token not in response.get_data(as_text=True) or not token
    assert not sees_the_draft(client)


def test_an_admin_cookie_reads_but_never_writes(client: FlaskClient) -> None:
    client.post("/login", data={"token": ADMIN})
    assert sees_the_draft(client)
    response = client.post("/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"})
    assert response.status_code == 401  # writes need the Authorization header, never a cookie


def test_a_rotated_token_in_the_cookie_reads_as_public(client: FlaskClient, settings: Settings) -> None:
    client.post("/login", data={"token": KERNTEAM})
    signed_in = client.get_cookie(COOKIE)
    assert signed_in is not None
    restarted = app_over(replace(settings, internal_tokens=("the-new-token",))).test_client()  # the token rotated
    restarted.set_cookie(COOKIE, signed_in.value)
    assert not sees_the_draft(restarted)
    assert restarted.get("/dashboard").status_code == 200
