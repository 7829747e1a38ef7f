"""Signal intake and control HTTP API (FastAPI), served on loopback by `multiaccount serve`.

Security: every endpoint but `GET /health` needs `Authorization: Bearer <MULTIACCOUNT_API_TOKEN>`
(compared in constant time; the token is never logged). Bodies above `max_body_bytes` are refused
with 413 before they are read in full. Signals are validated by `multiaccount.domain.TradingSignal`;
a bad one gets 422 naming the field. Nothing reaches a broker except through the router, which runs
the pre-trade checks.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope as AsgiScope, Send

from multiaccount.domain import TradingSignal
from multiaccount.realtime.runtime import Runtime, parse_scope

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class ControlRequest(BaseModel):
    """Halt or resume one scope: who and why are mandatory (audited)."""

    model_config = ConfigDict(extra="forbid")

    scope: str = Field("firm", min_length=4, max_length=96, examples=["firm", "group:high_frequency",
                                                                      "account:EU_HF_001"])
    reason: str = Field(min_length=3, max_length=500)
    actor: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@:-]+$")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()


class EmergencyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)
    actor: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.@:-]+$")


class BodySizeLimit:
    """Refuse bodies larger than `limit` bytes with 413: by Content-Length up front, and by counting
    when the client streams without one."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException so FastAPI answers 413 (not 400)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


async def _too_large(send: Send, limit: int) -> None:
    body = b'{"detail":"request body too large (limit %d bytes)"}' % limit
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _fields(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        out.append({"field": ".".join(loc) or "body", "message": err.get("msg", ""), "type": err.get("type", "")})
    return out


def create_app(rt: Runtime, token: str, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    if not token or len(token) < 16:
        raise ValueError("MULTIACCOUNT_API_TOKEN must be set to at least 16 characters")
    expected = token.encode()
    app = FastAPI(title="multiaccount realtime", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _fields(exc)
        return JSONResponse(status_code=422, content={"detail": fields,
                                                      "fields": sorted({f["field"] for f in fields})})

    def authorized(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise HTTPException(status_code=401, detail="missing or invalid token",
                                headers={"WWW-Authenticate": "Bearer"})

    auth = [Depends(authorized)]

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Liveness for probes: no secrets, no positions."""
        h = rt.health()
        return {"status": h["status"], "last_beat": h["last_beat"]}

    @app.get("/v1/health", dependencies=auth)
    def health_detail() -> dict[str, Any]:
        return rt.health()

    @app.get("/v1/risk", dependencies=auth)
    def risk() -> dict[str, Any]:
        return rt.risk_view()

    @app.get("/v1/state", dependencies=auth)
    def state() -> dict[str, Any]:
        return rt.state_view()

    @app.post("/v1/signals", dependencies=auth)
    def signal(body: TradingSignal) -> JSONResponse:
        result = rt.submit_signal(body, source="api")
        return JSONResponse(status_code=200 if result["duplicate"] else 202, content=result)

    def _scope(text: str):
        try:
            return parse_scope(text, rt.firm)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=[{"field": "scope", "message": str(exc)}]) from exc

    @app.post("/v1/halt", dependencies=auth)
    def halt(body: ControlRequest) -> dict[str, Any]:
        scope = _scope(body.scope)
        return {"scope": str(scope), "state": rt.halt(scope, body.reason, body.actor).value}

    @app.post("/v1/resume", dependencies=auth)
    def resume(body: ControlRequest) -> dict[str, Any]:
        scope = _scope(body.scope)
        try:
            state = rt.resume(scope, body.reason, body.actor)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=[{"field": "actor", "message": str(exc)}]) from exc
        return {"scope": str(scope), "state": state.value}

    @app.post("/v1/emergency-stop", dependencies=auth)
    def stop(body: EmergencyRequest) -> dict[str, Any]:
        report = rt.emergency_stop(body.reason, body.actor)
        return {"ok": report.ok, "halted": report.halted, "incident_id": report.incident_id,
                "flatten": report.flatten.summary() if report.flatten else "kept open",
                "still_open": {k: list(v) for k, v in (report.flatten.still_open if report.flatten else {}).items()},
                "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "text": e.text} for e in report.timeline]}

    app.add_middleware(BodySizeLimit, limit=max_body_bytes)
    return app
