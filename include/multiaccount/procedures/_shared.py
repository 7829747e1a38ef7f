"""Helpers the procedure modules share: app resolution, account grouping, money, events."""

from __future__ import annotations

import logging
from decimal import ROUND_DOWN, Decimal
from typing import Any

from multiaccount.bootstrap import App, bootstrap
from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.domain.ports import DomainEvent
from multiaccount.procedures.common import RunInfo

log = logging.getLogger(__name__)
CENT = Decimal("0.01")


def app_of(app: App | None) -> App:
    return app if app is not None else bootstrap()


def run_of(run: dict[str, Any] | RunInfo) -> RunInfo:
    return RunInfo.from_dict(run)


def money(x: float | Decimal | str) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_DOWN)


def publish(app: App, kind: str, severity: Severity, scope: Scope, title: str, detail: str = "",
            **data: Any) -> None:
    """Alerts must never break a procedure step: a failing sink is logged and the step goes on."""
    try:
        app.events.publish(DomainEvent(kind=kind, severity=severity, scope=scope, title=title, detail=detail,
                                       at=app.clock.now(), data=data))
    except Exception:  # noqa: BLE001
        log.exception("could not publish %s event: %s", kind, title)


def state_of(app: App, account_id: str) -> TradingState:
    return app.states.get(Scope.account(account_id)).state


def set_state_once(app: App, scope: Scope, state: TradingState, reason: str, actor: str) -> bool:
    """Change a trading state only when it differs (reruns do not add audit rows); True if changed."""
    current = app.states.get(scope)
    if current.state is state:
        return False
    app.states.set(scope, state, reason, actor, expected_version=current.version, at=app.clock.now())
    return True


def accounts_by_group(app: App, accounts: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for acc in accounts:
        out.setdefault(app.firm.group_of(acc), []).append(acc)
    return out


def is_simulated(app: App, account_id: str) -> bool:
    """Simulated terminal (MULTIACCOUNT_BROKER=simulated) or a research account that never trades live."""
    from multiaccount.config import broker_mode

    return broker_mode() == "simulated" or not app.firm.live_trading(account_id)
