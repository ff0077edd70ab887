"""The web front-end: static files only (`static/`: index.html, config.js, style.css, js/*.js), no build step.

`add_web_routes(app)` serves them from the API's aiohttp application, after the API's own routes (the
embedded default: `serve_api(..., configure_app=add_web_routes)`); in deployment nginx serves `static/`
and `config.js` points at the API.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

WEB_ROOT = Path(__file__).resolve().parent / "static"


def add_web_routes(app: web.Application, root: Path = WEB_ROOT) -> None:
    """`GET /` answers index.html; every other file of the folder is served under `/` too (no listing;
    aiohttp refuses paths that leave the folder). Register after the API routes: those win."""

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(root / "index.html", headers={"Cache-Control": "no-cache"})

    app.router.add_get("/", index)
    app.router.add_static("/", root, show_index=False, follow_symlinks=False)
