"""Roles by bearer token: none is the public; a Kernteam token sees internal data; an admin token
also writes. Tokens come from settings only, are compared in constant time and never logged."""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

from flask import g, request

from config import Settings
from kg.access import AUDIENCES, INTERNAL, PUBLIC
from kg.store import GraphView
from web.errors import BadRequest, Forbidden, Unauthorized
from web.services import services

COOKIE = "mk_token"  # the sign-in cookie (web.login)


class Role(Enum):
    PUBLIC = "public"
    INTERNAL = "internal"
    ADMIN = "admin"

    @property
    def audience(self) -> str:
        return PUBLIC if self is Role.PUBLIC else INTERNAL


def _matches(given: bytes, tokens: tuple[str, ...]) -> bool:
    """Constant time per token, and every token is compared (no early exit that times the list)."""
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token.encode())
    return found


def _admin_tokens(settings: Settings) -> tuple[str, ...]:
    return tuple(_named_admin_tokens(settings))


def _named_admin_tokens(settings: Settings) -> dict[str, str]:
    """Admin tokens and the names the history shows for them (never the token): `NAME:TOKEN` in
    MK_ADMIN_TOKENS names one; an unnamed one is known by the start of its SHA-256 digest."""
    named = {}
    for entry in settings.admin_tokens:
        name, sep, token = entry.partition(":")
        if not (sep and name and token):
            name, token = f"token-{hashlib.sha256(entry.encode()).hexdigest()[:8]}", entry
        named[token] = name
    if settings.write_token:
        named.setdefault(settings.write_token, "MK_WRITE_TOKEN")
    return named


def current_role() -> Role:
    """The role of this request (see role_of_request), worked out once per request."""
    if "role" not in g:
        g.role = role_of_request(request.headers.get("Authorization", ""), request.cookies.get(COOKIE, ""),
                                 services().settings)
    return g.role


def role_of_request(authorization: str, cookie: str, settings: Settings) -> Role:
    """The role from an `Authorization: Bearer` header, else from the sign-in cookie. A token that is
    given but not recognised is refused (403) rather than silently treated as the public."""
    if not authorization:
        return _cookie_role(cookie, settings)
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("use an 'Authorization: Bearer <token>' header, or none for public access")
    found = _role_of_token(given, settings)
    if found is None:
        raise Forbidden("the token is not recognised (it may have been rotated); ask the Kernteam for a current one")
    return found


def role_of_token(token: str) -> Role | None:
    """The role a token grants, or None for a token that is not (or no longer) configured."""
    return _role_of_token(token, services().settings)


def _role_of_token(token: str, settings: Settings) -> Role | None:
    given = token.strip().encode()
    if not given:
        return None
    if _matches(given, _admin_tokens(settings)):
        return Role.ADMIN
    if _matches(given, settings.internal_tokens):
        return Role.INTERNAL
    return None


def _cookie_role(token: str, settings: Settings) -> Role:
    """A browser signed in at /login carries its token in an HttpOnly, SameSite=Strict cookie. The
    cookie only ever grants reading (at most the Kernteam role): writes need the header, so no
    other site can make a signed-in browser write. A stale cookie (rotated token) reads as public."""
    role = _role_of_token(token, settings) if token else None
    return Role.INTERNAL if role is not None else Role.PUBLIC


def current_audience() -> str:
    return current_role().audience


def require_write_token() -> str:
    """Writes need an admin token in the header (web.graph_store; /sparql calls require_admin)."""
    return require_admin(request.headers.get("Authorization", ""), services().settings)


def require_admin(authorization: str, settings: Settings) -> str:
    """Writes need an admin token; without one configured, the server is read-only. Returns the
    token's name, which the write history records."""
    if not _admin_tokens(settings):
        raise Forbidden("this endpoint is read-only: writes are switched off (no MK_ADMIN_TOKENS configured)")
    if not authorization:
        raise Unauthorized("writes need an 'Authorization: Bearer <token>' header")
    if role_of_request(authorization, "", settings) is not Role.ADMIN:
        raise Forbidden("the token does not allow writes")
    given = authorization.partition(" ")[2].strip()
    return next(name for token, name in _named_admin_tokens(settings).items()
                if hmac.compare_digest(given.encode(), token.encode()))


def checked_visibility(given: str | None) -> str | None:
    """The `visibility` of a write (of the graphs it creates): public, internal, or not given."""
    if given is not None and given not in AUDIENCES:
        raise BadRequest(f"visibility must be 'public' or 'internal' (the graphs a write creates are internal "
                         f"unless it says public), not {given!r}")
    return given


def request_view() -> GraphView:
    """The graph view this request may read: the public view, or everything for a Kernteam token."""
    return services().store.view(current_audience())
