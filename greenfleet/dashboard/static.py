"""The dashboard's own CSS and JavaScript and the vendored chart library, shipped in the package and
served from memory (a fixed set of files: no path from the request reaches the file system)."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import NamedTuple

from fastapi import APIRouter, Request, Response

__all__ = ["router", "url"]

FILES = ("dashboard.css", "dashboard.js", "charts.js", "favicon.svg", "vendor/uPlot.iife.min.js",
         "vendor/uPlot.min.css")
TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}


class Asset(NamedTuple):
    body: bytes
    media_type: str
    etag: str


def _load() -> dict[str, Asset]:
    root = resources.files("greenfleet.dashboard") / "static"
    assets = {}
    for name in FILES:
        body = (root / name).read_bytes()
        assets[name] = Asset(body, TYPES[name.rsplit(".", 1)[1]], hashlib.sha256(body).hexdigest()[:16])
    return assets


ASSETS = _load()
router = APIRouter()


def url(name: str) -> str:
    """The file's address, versioned by its content so browsers may cache it for good."""
    return f"/ui/static/{name}?v={ASSETS[name].etag}"


@router.get("/ui/static/{name:path}", include_in_schema=False)
def asset(name: str, request: Request) -> Response:
    found = ASSETS.get(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {"etag": f'"{found.etag}"', "cache-control": "public, max-age=31536000, immutable",
               "x-content-type-options": "nosniff"}
    if request.headers.get("if-none-match") == f'"{found.etag}"':
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
