"""The review server: FastAPI on 127.0.0.1 with a one-time token, as Jupyter does.

Every request needs the token (``?token=`` once; the page then keeps it in a
SameSite=Strict cookie, and sends it as ``X-Qscribe-Token`` with every change). A wrong
or missing token gets 403 and no data. The Host header must name this server
(DNS rebinding) and a change needs an Origin of this server (cross-site requests).
Files are served from fixed names only, never from a path in the request. Request logs
carry a request id, the method, the route, the status and the time; never a query
string or text.
"""

from __future__ import annotations

import hmac
import itertools
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from pipeline.errors import PipelineError
from review.store import NotFound, Review, Stale

logger = logging.getLogger("review")

COOKIE = "qscribe_review"
HEADER = "x-qscribe-token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "media-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
FORBIDDEN = "403: this review server needs its token; open the address qscribe review printed.\n"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _static(name: str) -> bytes:
    return resources.files("review").joinpath("static", name).read_bytes()


def create_app(review: Review, token: str, hosts: set[str]) -> FastAPI:
    """The app; ``hosts``: the Host values this server answers to ("127.0.0.1:8765")."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    origins = {f"http://{h}" for h in hosts}
    counter = itertools.count(1)

    def token_ok(value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(str(value).encode(), token.encode())

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = next(counter)
        started = time.monotonic()
        response = await _guarded(request, call_next)
        for k, v in {
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "Cross-Origin-Resource-Policy": "same-origin",
        }.items():
            response.headers[k] = v
        route = request.scope.get("route")
        logger.info(
            "request %d %s %s %s %d %.0fms",
            rid,
            request.method,
            getattr(route, "path", "(no route)"),
            request.path_params.get("sid", "-") if response.status_code != 403 else "-",
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    async def _guarded(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.headers.get("host", "") not in hosts:
            return PlainTextResponse("403: unknown host.\n", 403)
        origin = request.headers.get("origin")
        if origin is not None and origin not in origins:
            return PlainTextResponse("403: cross-site request refused.\n", 403)
        unsafe = request.method not in ("GET", "HEAD")
        if unsafe:
            if origin is None and request.headers.get("sec-fetch-site") != "same-origin":
                return PlainTextResponse("403: cross-site request refused.\n", 403)
            if not token_ok(request.headers.get(HEADER)):
                return PlainTextResponse(FORBIDDEN, 403)
        elif not (
            token_ok(request.headers.get(HEADER))
            or token_ok(request.cookies.get(COOKIE))
            or token_ok(request.query_params.get("token"))
        ):
            return PlainTextResponse(FORBIDDEN, 403)
        response = await call_next(request)
        if request.url.path == "/" and token_ok(request.query_params.get("token")):
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return JSONResponse({"error": "not found"}, 404)

    @app.exception_handler(Stale)
    async def _stale(request: Request, exc: Stale) -> Response:
        return JSONResponse(
            {
                "error": "This session was changed since you loaded it (another tab or a run). "
                "Reload to see the latest version, then make your change again."
            },
            409,
        )

    @app.exception_handler(PipelineError)
    async def _pipeline(request: Request, exc: PipelineError) -> Response:
        return JSONResponse({"error": str(exc)}, 422)

    @app.exception_handler(KeyError)
    @app.exception_handler(ValueError)
    @app.exception_handler(TypeError)
    async def _bad(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"bad request ({type(exc).__name__})"}, 422)

    @app.get("/")
    def index() -> Response:
        return Response(_static("index.html"), media_type="text/html; charset=utf-8")

    @app.get("/static/app.js")
    def app_js() -> Response:
        return Response(_static("app.js"), media_type=STATIC["app.js"])

    @app.get("/static/app.css")
    def app_css() -> Response:
        return Response(_static("app.css"), media_type=STATIC["app.css"])

    @app.get("/api/sessions")
    def sessions() -> Any:
        return {"sessions": review.sessions(), "can_export": review.out is not None}

    @app.get("/api/sessions/{sid}")
    def view(sid: str) -> Any:
        return review.view(sid)

    @app.get("/api/sessions/{sid}/audio")
    def audio(sid: str) -> Response:
        return FileResponse(review.audio_path(sid), media_type="audio/wav")

    async def body_of(request: Request) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise PipelineError("send JSON.")
        data = await request.json()
        if not isinstance(data, dict):
            raise PipelineError("send a JSON object.")
        return data

    @app.post("/api/sessions/{sid}/text")
    async def text(sid: str, request: Request) -> Any:
        b = await body_of(request)
        return await _thread(
            review.save_text,
            sid,
            b.get("version"),
            float(b["start"]),
            float(b["end"]),
            str(b["text"]),
        )

    @app.post("/api/sessions/{sid}/speakers")
    async def speakers(sid: str, request: Request) -> Any:
        b = await body_of(request)
        return await _thread(review.save_speakers, sid, b.get("version"), b)

    @app.post("/api/sessions/{sid}/redactions")
    async def redactions(sid: str, request: Request) -> Any:
        b = await body_of(request)
        return await _thread(review.save_redactions, sid, b.get("version"), b)

    @app.post("/api/sessions/{sid}/codes")
    async def codes(sid: str, request: Request) -> Any:
        b = await body_of(request)
        return await _thread(review.save_codes, sid, b.get("version"), b)

    @app.post("/api/sessions/{sid}/state")
    async def state(sid: str, request: Request) -> Any:
        b = await body_of(request)
        return await _thread(review.save_state, sid, b.get("version"), b)

    @app.post("/api/sessions/{sid}/export")
    async def export(sid: str, request: Request) -> Any:
        await body_of(request)
        return await _thread(review.export_html, sid)

    return app


async def _thread(fn: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (never another interface); port 0: any free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise PipelineError(
            f"port {port} on 127.0.0.1 is taken ({exc.strerror}).",
            hint="Give another --port, or 0.",
        ) from None
    sock.listen(64)
    return sock


def hosts_for(port: int) -> set[str]:
    return {f"127.0.0.1:{port}", f"localhost:{port}"}


def serve(review: Review, port: int = 0, announce: Callable[[str], None] = print) -> None:
    """Run until Ctrl-C (or SIGTERM); prints the address with its token."""
    import uvicorn

    sock = bind(port)
    port = sock.getsockname()[1]
    token = new_token()
    app = create_app(review, token, hosts_for(port))
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", server_header=False
    )
    server = uvicorn.Server(config)
    announce(
        f"Review server for {len(review.session_ids())} session(s), on this machine only:\n"
        f"    http://127.0.0.1:{port}/?token={token}\n"
        "Open that address in a browser here. Ctrl-C stops the server."
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
