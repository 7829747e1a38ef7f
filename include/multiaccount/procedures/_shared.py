"""Helpers the procedure modules share: app and run resolution, reading the fleet into the store,
per-step records in the store's kv, events.

The store is the source of truth: every broker read a procedure makes is written to the store
(`snapshots`, open `positions`, `deals`) before anything is computed from it, so reports,
rebalancing, checklists and the dashboard all see the same numbers the procedure acted on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from multiaccount.bootstrap import App, bootstrap
from multiaccount.domain import AccountState, Position, Scope, Severity
from multiaccount.domain.ports import DomainEvent
from multiaccount.procedures.common import RunInfo

log = logging.getLogger(__name__)


def app_of(app: App | None) -> App:
    return app if app is not None else bootstrap()


def run_of(run: dict[str, Any] | RunInfo) -> RunInfo:
    return RunInfo.from_dict(run)


def publish(app: App, kind: str, severity: Severity, scope: Scope, title: str, detail: str = "",
            **data: Any) -> None:
    """Alerts must never break a procedure step: a failing sink is logged and the step goes on."""
    try:
        app.events.publish(DomainEvent(kind=kind, severity=severity, scope=scope, title=title, detail=detail,
                                       at=app.clock.now(), data=data))
    except Exception:  # noqa: BLE001
        log.exception("could not publish %s event: %s", kind, title)


# ------------------------------------------------------------------ per-step records (store kv)
def step_key(procedure: str, period: str, step: str) -> str:
    """kv key of a step's record: keyed by the trading day (or month), never the run id, so reruns converge."""
    return f"procedure:{procedure}:{period}:{step}"


def step_get(app: App, procedure: str, period: str, step: str) -> dict[str, Any] | None:
    return app.store.kv.get(step_key(procedure, period, step))


def step_put(app: App, procedure: str, period: str, step: str, value: dict[str, Any]) -> dict[str, Any]:
    app.store.kv.set(step_key(procedure, period, step), value, at=app.clock.now())
    return value


# ------------------------------------------------------------------ time
def day_close(day: date) -> datetime:
    """The instant that closes trading `day`: 17:00 New York (DST-correct), in UTC."""
    from multiaccount.performance.returns import day_bounds

    return day_bounds(day)[1].to_pydatetime()


def valuation_at(day: date) -> datetime:
    """The instant an end-of-day valuation stands for: one second before the rollover that closes `day`.

    End of day fires at the rollover itself, so its reads are a few seconds into the next trading day;
    stamped as-is they would be the next day's first valuation. A rerun the next morning is stamped
    the same way, so the day keeps one closing valuation per run.
    """
    return day_close(day) - timedelta(seconds=1)


# ------------------------------------------------------------------ fleet -> store
@dataclass(frozen=True)
class FleetRead:
    """What the terminals said: states and positions of the accounts that answered, errors of the rest."""

    states: dict[str, AccountState] = field(default_factory=dict)
    positions: dict[str, list[Position]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def all_positions(self) -> list[Position]:
        return [p for ps in self.positions.values() for p in ps]

    def quotes(self) -> dict[str, tuple[float, float]]:
        """Current prices seen on open positions (symbols.json reference prices fill the rest)."""
        return {p.symbol: (p.price_current, p.price_current) for p in self.all_positions if p.price_current > 0}


def read_fleet(app: App, accounts: Iterable[str], *, stamp_before: datetime | None = None,
               deals_since: datetime | None = None, record: bool = True) -> FleetRead:
    """Read accounts from their terminals and (unless `record=False`) write the reads to the store.

    `stamp_before`: snapshots later than this instant are stamped at it (see `valuation_at`).
    `deals_since`: also copy the broker's deal history since then into the store (flows and trades
    for performance and reports; the store ignores deals it already has).
    """
    out = FleetRead()
    for acc in accounts:
        try:
            app.fleet.connect(acc)
            st = app.fleet.account_state(acc)
            positions = list(app.fleet.positions(acc))
            deals = app.fleet.broker(acc).deals(deals_since) if deals_since is not None else []
        except Exception as exc:  # noqa: BLE001 - an unreachable account is reported, never fatal for the others
            log.warning("terminal read failed for %s: %s", acc, exc)
            out.failed[acc] = f"{type(exc).__name__}: {exc}"
            continue
        if stamp_before is not None and st.at > stamp_before:
            st = replace(st, at=stamp_before)
        out.states[acc] = st
        out.positions[acc] = positions
        if record:
            app.store.positions.replace_open(acc, positions, st.at)
            if deals:
                app.store.positions.record_deals(acc, deals)
    if record and out.states:
        app.store.snapshots.record_many(out.states.values())
    return out


def account_state_dict(st: AccountState, positions: list[Position]) -> dict[str, Any]:
    """JSON-able broker-side state of one account (what a backup keeps beside the store dump)."""
    return {"balance": st.balance, "equity": st.equity, "margin": st.margin, "margin_free": st.margin_free,
            "margin_level": st.margin_level, "currency": st.currency, "connected": st.connected,
            "at": st.at.isoformat(),
            "positions": [{"ticket": p.ticket, "symbol": p.symbol, "side": p.side.value, "volume": p.volume,
                           "price_open": p.price_open, "sl": p.sl, "tp": p.tp, "profit": p.profit,
                           "opened_at": p.opened_at.isoformat()} for p in positions]}


class FleetCalls:
    """`TerminalPool.call` shape (`call(account_id, method, *args)`) over any Fleet, for packages written
    against the pool (lifecycle): the fleet's own `call` when it has one, else the account's broker."""

    def __init__(self, fleet: Any):
        self.fleet = fleet

    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        own = getattr(self.fleet, "call", None)
        if own is not None:
            return own(account_id, method, *args, **kwargs)
        return getattr(self.fleet.broker(account_id), method)(*args, **kwargs)
