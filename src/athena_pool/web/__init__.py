"""The web front-end: static files only (`static/`: index.html, config.js, style.css, js/*.js), no build step.

`add_web_routes(app)` serves them from the API's aiohttp application, after the API's own routes (the
embedded default: `serve_api(..., configure_app=add_web_routes)`); in deployment nginx serves `static/`
and `config.js` points at the API.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from aiohttp import web

WEB_ROOT = Path(__file__).resolve().parent / "static"
MAX_FILES = 1_000  # a front-end folder, not a file server
_SERVABLE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")

FileHandler = Callable[[web.Request], Awaitable[web.FileResponse]]


def add_web_routes(app: web.Application, root: Path = WEB_ROOT) -> None:
    """`GET /` answers index.html, and `GET /<name>` each regular file of the folder (no listing, no
    symbolic link, no hidden file), found when the app is built. There is no catch-all: any other path
    stays the router's 404, which the API's error middleware answers as JSON like every API error (a
    static handler would answer an empty non-JSON 404). API routes and these never overlap."""
    app.router.add_get("/", _file_handler(root / "index.html", no_cache=True))
    for relative in servable_files(root):
        app.router.add_get(f"/{relative}", _file_handler(root / relative, no_cache=relative == "index.html"))


def servable_files(root: Path) -> Iterator[str]:
    """The folder's regular files as URL paths (`js/app.js`), sorted; names outside a plain character set
    (and dot files) are left out, as are symbolic links and what they point to."""
    found = 0
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink() or not path.is_file() or not _SERVABLE.fullmatch(relative):
            continue
        if any(part.is_symlink() for part in path.parents if part != root and root in part.parents):
            continue
        found += 1
        if found > MAX_FILES:
            raise ValueError(f"{root}: more than {MAX_FILES} files to serve")
        yield relative


def _file_handler(path: Path, *, no_cache: bool) -> FileHandler:
    headers = {"Cache-Control": "no-cache"} if no_cache else None

    async def handler(request: web.Request) -> web.FileResponse:
        if not path.is_file():  # removed since start-up: the JSON 404 of the API, not an empty one
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers=headers)

    return handler
