"""The portal's one stylesheet and one script (and its icon), served by the app itself."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.portal.web import HERE, SECURITY_HEADERS, portal

TYPES = {
    "portal.css": "text/css; charset=utf-8",
    "portal.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@portal.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    # A fixed list, so no path from the URL ever reaches the file system.
    if name not in TYPES:
        return Response(body="Not found", status_code=404, headers={"Content-Type": "text/plain"})
    body = (HERE / "static" / name).read_text(encoding="utf-8")
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS,
        "Content-Type": TYPES[name],
        # URLs carry the file's hash (?v=…), so a changed file gets a new URL.
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    return Response(body=body, status_code=200, headers=headers)
