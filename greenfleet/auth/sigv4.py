"""SigV4 verification with botocore's own signer: the incoming request is rebuilt as a botocore
AWSRequest holding exactly the headers it lists in SignedHeaders, signed again with the secret of its
access key at its own X-Amz-Date, and the two signatures are compared in constant time.

``verify`` is framework-free (method, raw path, query, headers, body); ``verify_scope`` adapts it to a raw
ASGI scope for the data plane. Both return None when the request may proceed, else an ``AuthFailure``
whose ``code(query_compatible)`` is the error code AWS answers: JSON services (SageMaker) use the
``*Exception`` codes, query-compatible ones (CloudWatch, both protocols) the query codes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 900.0  # AWS refuses signatures more than 15 minutes away from its clock
_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.DOTALL)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"

# kind -> (JSON services' code, query-compatible code)
CODES: dict[str, tuple[str, str]] = {
    "missing": ("MissingAuthenticationTokenException", "MissingAuthenticationToken"),
    "incomplete": ("IncompleteSignatureException", "IncompleteSignature"),
    "unknown_key": ("UnrecognizedClientException", "InvalidClientTokenId"),
    "bad_signature": ("InvalidSignatureException", "SignatureDoesNotMatch"),
}


@dataclass(frozen=True, slots=True)
class AuthFailure:
    kind: str  # a key of CODES
    message: str
    status: int = 403

    def code(self, query_compatible: bool = False) -> str:
        return CODES[self.kind][1 if query_compatible else 0]


@dataclass(frozen=True, slots=True)
class _Authorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def _parse_authorization(value: str) -> _Authorization | AuthFailure:
    match = _AUTH.match(value.strip())
    if match is None:
        algorithm = value.split(" ", 1)[0]
        return AuthFailure("incomplete", f"Authorization header requires the {ALGORITHM} algorithm "
                                         f"(got '{algorithm}').")
    fields: dict[str, str] = {}
    for part in match.group(1).split(","):
        name, sep, field_value = part.strip().partition("=")
        if sep:
            fields[name] = field_value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        return AuthFailure("incomplete", f"Authorization header requires {', '.join(missing)} "
                                         f"parameter{'s' if len(missing) > 1 else ''}. Authorization={value}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
        return AuthFailure("incomplete", "Credential must have the form "
                                         "<key>/<YYYYMMDD>/<region>/<service>/aws4_request.")
    signed = tuple(h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip())
    return _Authorization(scope[0], scope[1], scope[2], scope[3], signed, fields["Signature"].lower())


def _amz_date(headers: Mapping[str, list[str]]) -> str | AuthFailure:
    values = headers.get("x-amz-date")
    if not values:
        return AuthFailure("incomplete", "Authorization requires an X-Amz-Date header.")
    return values[0].strip()


def _skew_failure(amz_date: str, now: float, max_skew_s: float) -> AuthFailure | None:
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return AuthFailure("incomplete", f"X-Amz-Date '{amz_date}' is not in the form YYYYMMDDTHHMMSSZ.")
    if abs(now - signed_at) > max_skew_s:
        server = datetime.fromtimestamp(now, UTC).strftime(_AMZ_DATE)
        return AuthFailure("bad_signature", f"Signature expired: {amz_date} is more than {max_skew_s:.0f} s "
                                            f"away from the server's time {server}.")
    return None


def expected_signature(secret: str, auth: _Authorization, amz_date: str, method: str, path: str, query: str,
                       headers: Mapping[str, list[str]], body: bytes) -> str:
    """The signature botocore computes for this request, from the signed headers only."""
    host = (headers.get("host") or ["localhost"])[0]
    url = f"http://{host}{path or '/'}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method.upper(), url=url, data=body)
    for name in auth.signed_headers:
        for value in headers.get(name, []):
            request.headers[name] = value
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(auth.access_key, secret), auth.service, auth.region)
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))


def verify(credentials: Mapping[str, str] | None, method: str, path: str, query: str,
           headers: Iterable[tuple[str, str]], body: bytes, now: float,
           max_skew_s: float = MAX_SKEW_S, services: tuple[str, ...] | None = None,
           region: str | None = None) -> AuthFailure | None:
    """None if the request may proceed: always when ``credentials`` (access key id → secret) is None or
    empty, else only when it carries a valid SigV4 signature by one of those keys. ``path`` is the raw
    (still percent-encoded) path as sent, ``query`` the raw query string. With ``services`` and ``region``,
    the credential scope must name one of those services and that region (as AWS checks: a signature for
    another service or region is refused even with the right secret)."""
    if not credentials:
        return None
    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    authorization = (by_name.get("authorization") or [""])[0]
    if not authorization:
        return AuthFailure("missing", "Missing Authentication Token: sign the request with SigV4 "
                                      "(greenfleet has access keys configured).")
    auth = _parse_authorization(authorization)
    if isinstance(auth, AuthFailure):
        return auth
    if services is not None and auth.service not in services:
        return AuthFailure("bad_signature", f"Credential should be scoped to correct service: "
                                            f"'{services[0]}' (got '{auth.service}').")
    if region is not None and auth.region != region:
        return AuthFailure("bad_signature", f"Credential should be scoped to a valid region, not "
                                            f"'{auth.region}'; this greenfleet server is in '{region}'.")
    amz_date = _amz_date(by_name)
    if isinstance(amz_date, AuthFailure):
        return amz_date
    problem = _skew_failure(amz_date, now, max_skew_s)
    if problem is not None:
        return problem
    secret = credentials.get(auth.access_key)
    if secret is None:
        return AuthFailure("unknown_key", "The security token included in the request is invalid: access key "
                                          f"'{auth.access_key}' is not known to this greenfleet server.")
    declared = by_name.get("x-amz-content-sha256")
    if declared and "x-amz-content-sha256" in auth.signed_headers \
            and declared[0] != hashlib.sha256(body).hexdigest():
        return AuthFailure("bad_signature", "X-Amz-Content-SHA256 does not match the request body.")
    expected = expected_signature(secret, auth, amz_date, method, path, query, by_name, body)
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        return AuthFailure("bad_signature", "The request signature we calculated does not match the signature "
                                            "you provided. Check your AWS Secret Access Key and signing method.")
    return None


def verify_scope(scope: Mapping[str, Any], body: bytes, credentials: Mapping[str, str] | None, now: float,
                 max_skew_s: float = MAX_SKEW_S, services: tuple[str, ...] | None = None,
                 region: str | None = None) -> AuthFailure | None:
    """``verify`` for a raw ASGI http scope (the data plane's InvokeEndpoint handler)."""
    if not credentials:
        return None
    raw_path = scope.get("raw_path") or scope["path"].encode()
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    return verify(credentials, scope["method"], raw_path.decode("latin-1"),
                  scope.get("query_string", b"").decode("latin-1"), headers, body, now, max_skew_s,
                  services, region)
