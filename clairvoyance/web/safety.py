"""What the web app trusts from a client: nothing, until checked here.

* Paths are resolved inside a root folder (symlinks followed, then checked), so ``../``, absolute
  paths, links pointing out and percent-encoded variants all end as a 404, never as a file outside.
* Uploads must be an image by content (Pillow identifies the format; the extension is ignored) and
  fit a size limit, enforced while the body streams in.
* Only the Host names the server was started for are answered (a web page elsewhere cannot reach it
  through DNS rebinding), and a request that changes state must come from the app's own origin.
* Every error is JSON: ``{"detail": "a clear message"}``.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ClairvoyanceError, ImageLoadError

#: Pillow formats accepted as photos (by content), and the extension an upload is stored under.
IMAGE_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp",
                 "HEIF": ".heic"}
#: Host names answered by default (plus the one given to ``serve --host``).
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "testserver")


class ApiError(HTTPException):
    """An HTTP error whose message is meant for the user."""


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def resolve_inside(root: Path, rel: str, what: str = "file") -> Path:
    """The regular file ``rel`` names inside ``root``; 404 when it is missing or would lie outside.

    ``rel`` is taken as a path relative to ``root``; absolute paths, drive letters, backslashes and
    NUL bytes are refused, and the fully resolved path (symlinks followed) must stay under ``root``.
    """
    if not rel or "\x00" in rel or "\\" in rel or rel.startswith(("/", "~")) or (len(rel) > 1 and rel[1] == ":"):
        raise not_found(what)
    base = root.resolve()
    try:
        p = (base / rel).resolve(strict=True)
        p.relative_to(base)
    except (OSError, ValueError, RuntimeError):  # missing, outside root, or a symlink loop
        raise not_found(what) from None
    if not p.is_file():
        raise not_found(what)
    return p


def dir_inside(root: Path, rel: str, what: str = "folder") -> Path:
    """The folder ``rel`` inside ``root`` (``""`` or ``"."`` is ``root`` itself), checked as ``resolve_inside``."""
    base = root.resolve()
    if rel in ("", "."):
        return base
    if "\x00" in rel or "\\" in rel or rel.startswith(("/", "~")) or (len(rel) > 1 and rel[1] == ":"):
        raise not_found(what)
    try:
        p = (base / rel).resolve(strict=True)
        p.relative_to(base)
    except (OSError, ValueError, RuntimeError):
        raise not_found(what) from None
    if not p.is_dir():
        raise not_found(what)
    return p


def image_format(data: bytes) -> str:
    """The Pillow format of ``data`` if it is a photo format we accept; 415 otherwise."""
    from PIL import Image, UnidentifiedImageError

    from ..images import register_heif

    register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # read_photo gives the clear error
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format or ""
    except Image.DecompressionBombError as e:
        raise ApiError(422, f"cannot read the image: image too large: {e}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ApiError(415, "not an image file (the content is not JPEG, PNG, TIFF, WebP, BMP or HEIC)") from None
    if fmt not in IMAGE_FORMATS:
        raise ApiError(415, f"unsupported image format {fmt}; upload JPEG, PNG, TIFF, WebP, BMP or HEIC")
    return fmt


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes to a ``prefixes`` path gets 413 — told by
    Content-Length up front, or counted while a body of unknown length streams in (the body is held
    in memory, at most ``limit`` bytes, and handed on once complete)."""

    def __init__(self, app, limit: int, prefixes: tuple[str, ...] = ("/api/upload",)):
        self.app, self.limit, self.prefixes = app, limit, prefixes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._too_large(scope, receive, send)
        chunks, seen = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                return await self._too_large(scope, receive, send)
            chunks.append(body)
            if not msg.get("more_body", False):
                break
        pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope, receive, send):
        resp = JSONResponse({"detail": f"upload too large (limit {self.limit / 1e6:g} MB)"}, status_code=413)
        await resp(scope, receive, send)


class LocalOnly:
    """ASGI middleware: answer only the allowed Host names (``*``: any), and take state-changing requests only
    from the app's own origin (a page on another site cannot write labels through the browser)."""

    def __init__(self, app, hosts: tuple[str, ...]):
        self.app, self.hosts = app, {h.strip("[]").lower() for h in hosts}

    def _host_ok(self, host: str) -> bool:
        if "*" in self.hosts:
            return True
        host = host.strip().lower()
        name = host[1:].split("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in self.hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
        if not self._host_ok(headers.get("host", "")):
            return await JSONResponse({"detail": "unknown Host header; open the app by the address "
                                                 "it was started on"}, status_code=421)(scope, receive, send)
        origin = headers.get("origin")
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and origin and origin != "null":
            if urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
                return await JSONResponse({"detail": "cross-origin request refused"},
                                          status_code=403)(scope, receive, send)
        return await self.app(scope, receive, send)


def _message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"detail": message}``: HTTP errors, validation errors (one readable line),
    unreadable images (422), our own errors (400) and anything unforeseen (500, no traceback)."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _message(exc)}, status_code=422)

    @app.exception_handler(ImageLoadError)
    async def image_error(request: Request, exc: ImageLoadError):
        return JSONResponse({"detail": f"cannot read the image: {exc}"}, status_code=422)

    @app.exception_handler(ClairvoyanceError)
    async def our_error(request: Request, exc: ClairvoyanceError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError):
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Exception)
    async def unforeseen(request: Request, exc: Exception):
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); see the server log"},
                            status_code=500)
