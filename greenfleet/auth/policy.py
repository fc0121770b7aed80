"""One authentication policy for every face of a greenfleet server.

Credentials are the SigV4 access keys (``aws_credentials``) and the bearer token (``api_token``). With
neither configured the server is open (a loopback development server). With any configured, no face is:

=====================================  ===========================================================
face                                   accepted
=====================================  ===========================================================
AWS protocols on ``POST /``            SigV4 for the protocol's service (``sagemaker``,
                                       ``monitoring``) in the server's region; or the bearer token
InvokeEndpoint (``/endpoints/…``)      SigV4 for ``sagemaker`` in the server's region; or the token
native API (``/api/*``) and the rest   the bearer token; or SigV4 for any greenfleet service
``GET /health``                        anyone (liveness probes)
=====================================  ===========================================================
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from greenfleet.auth.sigv4 import AuthFailure, verify

__all__ = ["NATIVE_SERVICES", "AccessPolicy", "is_loopback"]

NATIVE_SERVICES = ("sagemaker", "monitoring", "execute-api", "greenfleet")
"""SigV4 signing names accepted on the native API (any of greenfleet's services)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    credentials: Mapping[str, str] | None
    token: str | None
    region: str
    max_skew_s: float = 900.0

    @property
    def open(self) -> bool:
        """No credential configured: every face is open."""
        return not self.credentials and not self.token

    def check(self, method: str, raw_path: str, query: str, headers: Iterable[tuple[str, str]], body: bytes,
              now: float, services: tuple[str, ...]) -> AuthFailure | None:
        """None if the request may proceed, else why not (``AuthFailure`` with AWS's codes)."""
        if self.open:
            return None
        listed = list(headers)
        authorization = next((value for name, value in listed if name.lower() == "authorization"), "").strip()
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer":
            if self.token and hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return None
            return AuthFailure("unknown_key", "The bearer token is not this server's GREENFLEET_API_TOKEN.")
        if not self.credentials:
            return AuthFailure("missing", "Missing Authentication Token: this greenfleet server requires "
                                          "'Authorization: Bearer <token>' (GREENFLEET_API_TOKEN).")
        return verify(self.credentials, method, raw_path, query, listed, body, now, self.max_skew_s,
                      services=services, region=self.region)
