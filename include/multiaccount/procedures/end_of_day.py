"""End of day at the 17:00 New York rollover (seed: scripts/end_of_day.py), one function per step.

1. close day-trading positions (`multiaccount.lifecycle`)  -> close_day_positions (per account)
2. daily performance (`multiaccount.performance`)          -> calculate_daily_performance
3. daily report (`multiaccount.reports`)                   -> generate_daily_report
4. backup of the store + broker-side account states        -> backup_account_states (`store.backup`)
5. arm overnight monitoring                                -> arm_overnight_monitoring

The procedure stands at `valuation_at(day)`, one second before the rollover that closes the trading
day, whenever it actually runs: the lifecycle rules see the intraday deadline, closes carry client
ids derived from that trading day (a rerun tomorrow still never closes twice), and the day's
closing valuation is stamped inside the day it values.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.domain import OrderIntent, OrderStatus, Scope, Severity
from multiaccount.procedures._shared import (
    FleetCalls,
    app_of,
    publish,
    read_fleet,
    run_of,
    step_get,
    step_put,
    valuation_at,
)
from multiaccount.procedures.common import RunInfo

PROCEDURE = "end_of_day"
CLOSES = ("close", "reduce")  # lifecycle action kinds that send orders; stop/TP upkeep is the monitor's
_HISTORY = timedelta(days=90)  # returns and drawdown need the days before this one


def close_day_positions(run: dict[str, Any] | RunInfo, account_id: str, app: App | None = None) -> dict[str, Any]:
    """Apply the lifecycle's closing rules to one account: intraday groups flat before the rollover,
    positions past their holding period, the weekend policy on Fridays. Each close is reserved in the
    store's order ledger under its deterministic client id and completed with the broker's outcome."""
    from multiaccount.lifecycle import LifecycleApplier, action_client_id, plan_lifecycle
    from multiaccount.risk import MarketData

    app, r = app_of(app), run_of(run)
    as_of = valuation_at(r.trading_day)
    read = read_fleet(app, [account_id])
    if account_id in read.failed:
        raise ConnectionError(f"CONNECTION_FAILED: account={account_id}, error={read.failed[account_id]}")
    market = MarketData.from_config(app.firm.symbols, read.quotes())
    actions = [a for a in plan_lifecycle(app.firm, read.positions, market, as_of) if a.kind.value in CLOSES]
    planned = [{"ticket": a.ticket, "symbol": a.symbol, "kind": a.kind.value, "reason": a.reason,
                "client_id": action_client_id(a, as_of)} for a in actions]
    if r.dry_run or not actions:
        return {"account_id": account_id, "closed": [], "would_close": planned if r.dry_run else [],
                "dry_run": r.dry_run}
    positions = {p.ticket: p for p in read.positions[account_id]}
    now = app.clock.now()
    for a in actions:
        p = positions[a.ticket]
        app.store.orders.reserve(OrderIntent(
            client_id=action_client_id(a, as_of), account_id=account_id, symbol=a.symbol, side=p.side.opposite,
            volume=a.volume or p.volume, position_ticket=a.ticket, reduce_only=True,
            factors={"procedure": PROCEDURE, "trading_day": r.key, "reason": a.reason}), now)
    results = LifecycleApplier(app.firm, FleetCalls(app.fleet)).apply(actions, as_of)
    closed, failed = [], []
    for action, outcome in results:
        app.store.orders.complete(outcome, app.clock.now())
        row = {"ticket": action.ticket, "symbol": action.symbol, "reason": action.reason,
               "status": outcome.status.value, "volume": outcome.volume, "price": outcome.price}
        ok = outcome.status in (OrderStatus.FILLED, OrderStatus.PARTIAL, OrderStatus.DUPLICATE) \
            or outcome.retcode == 10036  # already flat
        (closed if ok else failed).append(row)
    read_fleet(app, [account_id])  # the account's positions as they are now
    if failed:
        raise RuntimeError(f"CLOSE_FAILED: account={account_id}, " + "; ".join(
            f"ticket={f['ticket']} status={f['status']}" for f in failed))
    return {"account_id": account_id, "closed": closed, "dry_run": False}


def calculate_daily_performance(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Record the day's closing valuation, positions and deals in the store, then the day's performance
    per account, group and firm (`multiaccount.performance`), upserted into `store.performance`."""
    from multiaccount.performance.returns import day_bounds
    from multiaccount.performance.sources import load_frames, trading_states
    from multiaccount.performance.summary import account_table, group_table, portfolio_summary

    app, r = app_of(app), run_of(run)
    start, end = day_bounds(r.trading_day)
    stamp = valuation_at(r.trading_day)
    read = read_fleet(app, list(app.firm.accounts), stamp_before=stamp, deals_since=start.to_pydatetime(),
                      record=not r.dry_run)
    frames = load_frames(app.store, app.firm, since=(start - _HISTORY).to_pydatetime(), until=end.to_pydatetime())
    snaps, flows, states = frames["snapshots"], frames["flows"], trading_states(app.store)
    table = account_table(app.firm, snaps, flows, r.trading_day, states)
    summary = portfolio_summary(app.firm, snaps, flows, r.trading_day, states, table)
    groups = group_table(app.firm, table, snaps, flows, r.trading_day)
    if not r.dry_run:
        perf = app.store.performance
        for row in table.itertuples():
            perf.upsert_daily(r.trading_day, Scope.account(row.account_id), end_equity=row.equity,
                              pnl=row.daily_pnl, return_pct=row.daily_return, drawdown=row.drawdown)
        for g in groups.itertuples():
            perf.upsert_daily(r.trading_day, Scope.group(g.group_name), end_equity=g.total_equity, pnl=g.total_pnl,
                              return_pct=g.avg_return)
        perf.upsert_daily(r.trading_day, Scope.firm(), end_equity=summary.total_equity, pnl=summary.daily_pnl,
                          return_pct=summary.daily_return, drawdown=summary.current_drawdown)
    accounts = {row.account_id: {"group": row.group, "equity": round(row.equity, 2),
                                 "pnl": round(row.daily_pnl, 2), "return": round(row.daily_return, 6)}
                for row in table.itertuples() if row.account_id in r.accounts}
    return {"trading_day": r.key, "accounts": accounts, "unreachable": sorted(read.failed),
            "firm": {"equity": round(summary.total_equity, 2), "pnl": round(summary.daily_pnl, 2),
                     "return": round(summary.daily_return, 6)}}


def generate_daily_report(run: dict[str, Any] | RunInfo, performance: dict[str, Any] | None = None,
                          app: App | None = None) -> dict[str, Any]:
    """`multiaccount.reports` daily report (HTML, CSV, XLSX) for the trading day, indexed in `store.reports`.

    Same folder per day: a rerun rewrites the files and replaces the index rows, never adds a report.
    """
    from multiaccount import paths
    from multiaccount.reports.service import daily_report

    app, r = app_of(app), run_of(run)
    existed = app.store.reports.get("daily", r.key, "html") is not None
    files = daily_report(app.store, app.firm, r.trading_day, app.clock.now())
    root = paths.reports_dir()
    return {"trading_day": r.key, "href": files["html"].relative_to(root).as_posix(),
            "files": {k: str(v.relative_to(root)) for k, v in files.items()}, "new": not existed}


def backup_account_states(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """The day's store backup with the brokers' own account states inside (`multiaccount.store.backup`)."""
    from multiaccount.procedures.backup import daily_backup

    return daily_backup(run, app=app)


def arm_overnight_monitoring(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Record tonight's watch in the store and say so once (the realtime monitor and risk_watch act on it)."""
    app, r = app_of(app), run_of(run)
    rc = app.firm.master.risk_controls
    watch = {"trading_day": r.key, "accounts": list(r.accounts), "armed_at": app.clock.now().isoformat(),
             "max_drawdown_per_account": rc.max_drawdown_per_account,
             "emergency_stop_threshold": app.firm.master.master_account.emergency_stop_threshold}
    if r.dry_run:
        return {**watch, "dry_run": True}
    first = step_get(app, PROCEDURE, r.key, "overnight_monitoring") is None
    step_put(app, PROCEDURE, r.key, "overnight_monitoring", watch)
    if first:
        publish(app, "overnight_monitoring", Severity.INFO, Scope.firm(), f"Overnight monitoring armed for {r.key}",
                limit_name=f"overnight-{r.key}")
    return watch
