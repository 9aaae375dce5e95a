"""Write access: a configured bearer token, compared in constant time."""

from __future__ import annotations

import hmac

from flask import request

from web.errors import Forbidden, Unauthorized
from web.services import services


def require_write_token() -> None:
    """Writes need `Authorization: Bearer <MK_WRITE_TOKEN>`; without a configured token, none are allowed."""
    configured = services().settings.write_token
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not configured:
        raise Forbidden("this endpoint is read-only: writes are switched off (no MK_WRITE_TOKEN configured)")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("writes need an 'Authorization: Bearer <token>' header")
    if not hmac.compare_digest(given.strip().encode(), configured.encode()):
        raise Forbidden("the token does not allow writes")
