"""The article explorer: one self-contained HTML page served at ``GET /`` and ``GET /explorer``.

The page (service/static/explorer.html: plain HTML, CSS and JavaScript, nothing fetched from
elsewhere) posts the article to ``/analyze_article`` and draws the answer: noise greyed out,
speech coloured by speaker, target mentions underlined, a table whose rows highlight their
evidence sentences. It holds no data, so it is served without the API key; the page asks
for the key and sends it with its API calls.
"""

from __future__ import annotations

import functools
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EXPLORER_PATHS = ("/", "/explorer")

# The page may talk only to this server and load nothing: a pasted article cannot pull in
# a script or image from elsewhere, and "works offline" holds by construction.
_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
}


@functools.cache
def explorer_page() -> bytes:
    """The page's bytes, read once from the installed package."""
    return resources.files("service").joinpath("static/explorer.html").read_bytes()


async def _explorer(request: Request) -> Response:
    return Response(explorer_page(), media_type="text/html; charset=utf-8", headers=_HEADERS)


def explorer_routes() -> list[Route]:
    """GET routes (HEAD included by Starlette) serving the page at EXPLORER_PATHS."""
    return [Route(path, _explorer, methods=["GET"]) for path in EXPLORER_PATHS]
