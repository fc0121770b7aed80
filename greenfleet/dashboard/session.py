"""The dashboard's session cookie and CSRF token.

With ``GREENFLEET_API_TOKEN`` set, a person signs in once with the token and gets a session cookie::

    gf_session = v1.<expires_at>.<session id>.<HMAC-SHA256(key, "v1.<expires_at>.<session id>")>

The key is derived from the API token, so changing the token ends every session and no secret has to be
stored. The cookie is HttpOnly, SameSite=Strict and scoped to ``/ui``; it carries no data but its expiry
and a random id. A state-changing request must also carry the session's CSRF token (an HMAC of its id,
embedded in each page) and, when the browser says where it comes from, an Origin of this server.
Without an API token the dashboard is open, as ``/api`` is; the CSRF token is then derived from a key
made when the server starts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["COOKIE", "SESSION_TTL_S", "Session", "SessionKeys"]

COOKIE = "gf_session"
SESSION_TTL_S = 8 * 3600
"""How long a sign-in lasts (a working day)."""
_VERSION = "v1"


@dataclass(frozen=True)
class Session:
    session_id: str
    expires_at: int


class SessionKeys:
    """Signs and checks session cookies and CSRF tokens for one API token (or none)."""

    def __init__(self, api_token: str | None, anonymous_key: bytes) -> None:
        self.required = bool(api_token)
        self._api_token = api_token or ""
        secret = api_token.encode() if api_token else anonymous_key
        self._key = hmac.new(secret, b"greenfleet dashboard session", hashlib.sha256).digest()

    def token_matches(self, given: str) -> bool:
        return self.required and hmac.compare_digest(given.strip().encode(), self._api_token.encode())

    def _sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def issue(self, now: float, session_id: str | None = None) -> tuple[Session, str]:
        session = Session(session_id or secrets.token_hex(16), int(now) + SESSION_TTL_S)
        body = f"{_VERSION}.{session.expires_at}.{session.session_id}"
        return session, f"{body}.{self._sign(body)}"

    def read(self, cookie: str | None, now: float) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged, malformed or expired."""
        if not cookie:
            return None
        parts = cookie.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._sign(body)):
            return None
        session = Session(parts[2], int(parts[1]))
        return session if session.expires_at > now else None

    def csrf_token(self, session: Session | None) -> str:
        return self._sign(f"csrf.{session.session_id if session else 'anonymous'}")

    def csrf_matches(self, session: Session | None, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.csrf_token(session))
