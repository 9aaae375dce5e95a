"""Signing in from a browser: the Kernteam pastes its token once; an HttpOnly cookie carries it
after that (read access only: see web.auth). Signing out removes the cookie."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from web.auth import COOKIE, Role, current_role, role_of_token
from web.i18n import t

login = Blueprint("login", __name__)
MAX_AGE_S = 8 * 3600  # one working day


@login.get("/login")
def form() -> str:
    return render_template("login.html", role=current_role().value, error=None)


@login.post("/login")
def sign_in() -> Response | tuple[str, int]:
    token = request.form.get("token", "")
    role = role_of_token(token)
    if role is None:
        message = t("login.empty") if not token.strip() else t("login.unknown")
        return render_template("login.html", role=Role.PUBLIC.value, error=message), 400 if not token.strip() else 403
    response = redirect(url_for("dashboard.index"), code=303)
    response.set_cookie(COOKIE, token.strip(), max_age=MAX_AGE_S, httponly=True, samesite="Strict",
                        secure=request.is_secure, path="/")
    return response


@login.post("/logout")
def sign_out() -> Response:
    response = redirect(url_for("match_page.home"), code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response
