"""Operator actions from the dashboard: halt or resume a scope, with an actor, a reason and an audit row.

Why a module apart from the callbacks: the rules (read-only refuses, an actor and a reason are
required, the scope must exist) are checked here, server-side, whatever the page sends, and are
tested without a browser. The state change itself goes through a `TradingControl`, so it is the same
path the CLI and the risk monitor use (the risk package's TradingStateService once wired).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from multiaccount.config import FirmConfig
from multiaccount.domain import Scope, ScopeKind, TradingState
from multiaccount.domain.ports import StateRecord, TradingStateRepository

log = logging.getLogger(__name__)

ACTIONS = {"halt": TradingState.HALTED, "resume": TradingState.ACTIVE}
_ACTOR = re.compile(r"^[\w .@'-]{2,64}$")


class AuditLog(Protocol):
    def record(self, actor: str, action: str, scope: str, detail: Any) -> Any:
        ...


class TradingControl(Protocol):
    def change(self, scope: Scope, state: TradingState, reason: str, actor: str) -> StateRecord | None:
        """Change a scope's trading state (persisted, audited, published); None when it already was."""
        ...


class ServiceTradingControl:
    """Halts and resumes through the risk package's `TradingStateService` (the one writer, which
    publishes the state_change event for alerts) and writes the audit row in the same unit of work."""

    def __init__(self, service: Any, audit: AuditLog, session: Callable[[], AbstractContextManager] | None = None):
        self._service = service
        self._audit = audit
        self._session = session or nullcontext

    def change(self, scope: Scope, state: TradingState, reason: str, actor: str) -> StateRecord | None:
        with self._session():
            if state is TradingState.HALTED:
                record = self._service.halt(scope, reason, actor)
            else:
                record = self._service.resume(scope, actor, reason, to=state)
            self._audit.record(actor, f"dashboard.{'halt' if state is TradingState.HALTED else 'resume'}",
                               str(scope), {"reason": reason, "changed": record is not None,
                                            "version": record.version if record else None, "source": "dashboard"})
        return record


class RepositoryTradingControl:
    """Sets state in the repository and writes an audit row; the fallback when no risk service is wired."""

    def __init__(self, states: TradingStateRepository, audit: AuditLog | None = None, clock: Any = None):
        self._states = states
        self._audit = audit
        self._clock = clock

    def change(self, scope: Scope, state: TradingState, reason: str, actor: str) -> StateRecord | None:
        if self._states.get(scope).state is state:
            return None
        at = self._clock.now() if self._clock is not None else None
        record = self._states.set(scope, state, reason, actor, at=at)
        if self._audit is not None:
            self._audit.record(actor, f"dashboard.{'halt' if state is TradingState.HALTED else 'resume'}",
                               str(scope), {"reason": reason, "version": record.version, "source": "dashboard"})
        return record


@dataclass(frozen=True)
class ActionRequest:
    action: str
    scope: str
    actor: str
    reason: str


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str
    record: StateRecord | None = None


class ActionRefused(Exception):
    """The request breaks a rule the operator can fix (no actor, unknown scope...)."""


def validate(request: ActionRequest, firm: FirmConfig) -> tuple[Scope, TradingState]:
    """The request's scope and target state, or ActionRefused saying what to fix."""
    if request.action not in ACTIONS:
        raise ActionRefused(f"unknown action '{request.action}' (halt or resume)")
    actor = (request.actor or "").strip()
    if not _ACTOR.fullmatch(actor):
        raise ActionRefused("enter your name as actor (2-64 letters, digits, space . @ ' -)")
    if len((request.reason or "").strip()) < 3:
        raise ActionRefused("enter a reason (at least 3 characters)")
    try:
        scope = Scope.parse((request.scope or "").strip())
    except ValueError as exc:
        raise ActionRefused(str(exc)) from exc
    known = (scope.kind is ScopeKind.FIRM or (scope.kind is ScopeKind.GROUP and scope.name in firm.groups)
             or (scope.kind is ScopeKind.ACCOUNT and scope.name in firm.accounts))
    if not known:
        raise ActionRefused(f"unknown scope '{scope}'")
    return scope, ACTIONS[request.action]


def perform_action(request: ActionRequest, *, firm: FirmConfig, control: TradingControl | None,
                   read_only: bool, now: datetime | None = None) -> ActionResult:
    """Check and carry out one operator action; never raises for operator mistakes."""
    if read_only or control is None:
        log.warning("dashboard action refused in read-only mode", extra={"action": request.action,
                                                                          "scope": request.scope})
        return ActionResult(False, "Refused: the dashboard is read-only")
    try:
        scope, state = validate(request, firm)
    except ActionRefused as exc:
        return ActionResult(False, f"Refused: {exc}")
    reason = f"{request.reason.strip()} (dashboard)"
    actor = request.actor.strip()
    record = control.change(scope, state, reason, actor)
    log.info("dashboard action", extra={"action": request.action, "scope": str(scope), "actor": actor,
                                         "changed": record is not None})
    if record is None:
        return ActionResult(True, f"{scope} was already {state.value}; nothing changed")
    verb = "halted" if state is TradingState.HALTED else "resumed"
    return ActionResult(True, f"{scope} {verb} by {actor}", record)
