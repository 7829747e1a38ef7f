"""Daily startup (seed: scripts/daily_startup.py), one function per seed step.

1. verify every terminal connection (reconnect; report n/N)   -> verify_connection, summarize_connections
2. overnight positions and P&L                               -> overnight_pnl
3. risk violations: critical halts the account, a warning
   halves its risk for the day (REDUCING)                    -> check_risk_violations
4. rebalance if drift exceeds the threshold                  -> check_rebalance_need (the rebalancing DAG runs
                                                                on the asset this step's successor emits)
5. start the trading session for active groups               -> start_session
6. the seed's daily checklist                                -> procedures.checklist.run("daily", ...)

Every read is written to the store first; the risk check measures with `multiaccount.risk` against
the same persisted baseline (peaks, start-of-day equity) as the realtime monitor, records each
violation in `store.violations` and changes states only through `TradingStateService`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.domain import Scope, ScopeKind, Severity, TradingState
from multiaccount.procedures._shared import app_of, publish, read_fleet, run_of, step_get, step_put
from multiaccount.procedures.common import RunInfo

log = logging.getLogger(__name__)
PROCEDURE = "daily_startup"
ACTOR = "procedure:daily_startup"
_LOOKBACK = timedelta(days=7)  # how far back the store is read for the previous close and today's records


def verify_connection(run: dict[str, Any] | RunInfo, account_id: str, app: App | None = None) -> dict[str, Any]:
    """Connect (or reconnect) one account's terminal and record its state; raises so the task retries."""
    app, r = app_of(app), run_of(run)
    app.fleet.connect(account_id)
    read = read_fleet(app, [account_id])
    if account_id in read.failed:
        raise ConnectionError(f"CONNECTION_FAILED: account={account_id}, error={read.failed[account_id]}")
    st = read.states[account_id]
    return {"account_id": account_id, "connected": True, "equity": st.equity, "positions":
            len(read.positions[account_id]), "trading_day": r.key}


def summarize_connections(run: dict[str, Any] | RunInfo, results: list[dict[str, Any]] | None,
                          app: App | None = None) -> dict[str, Any]:
    """n/N connected; the missing ones are alerted (their mapped task failed after its retries)."""
    app, r = app_of(app), run_of(run)
    ok = sorted({x["account_id"] for x in (results or []) if x and x.get("connected")})
    failed = [a for a in r.accounts if a not in ok]
    summary = {"connected": len(ok), "total": len(r.accounts), "failed": failed}
    step_put(app, PROCEDURE, r.key, "connections", summary)
    if failed:
        publish(app, "connection_failure", Severity.CRITICAL, Scope.firm(),
                f"{len(ok)}/{len(r.accounts)} terminals connected", f"not connected: {', '.join(failed)}",
                limit_name=f"startup-{r.key}")
    return summary


def overnight_pnl(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """P&L since the previous trading day's close (flows excluded), from the store's valuations."""
    from multiaccount.performance.returns import period_pnl
    from multiaccount.performance.sources import load_frames
    from multiaccount.procedures._shared import valuation_at
    from multiaccount.procedures.calendar import TradingCalendar

    app, r = app_of(app), run_of(run)
    prev = TradingCalendar.of(app.firm.sessions.holidays).previous_trading_day(r.trading_day)
    since, now = valuation_at(prev), app.clock.now()
    frames = load_frames(app.store, app.firm, since=since - _LOOKBACK, until=now)
    snaps, flows = frames["snapshots"], frames["flows"]
    open_positions = app.store.positions.open()
    rows: dict[str, Any] = {}
    for acc in r.accounts:
        mine = snaps[snaps["account_id"] == acc]
        if mine.empty:
            rows[acc] = {"error": "NO_SNAPSHOT: no valuation in the store"}
            continue
        rows[acc] = {"equity": float(mine.sort_values("at")["equity"].iloc[-1]),
                     "pnl": round(period_pnl(snaps, flows, since, now, [acc]), 2),
                     "positions": sum(1 for p in open_positions if p.account_id == acc)}
    total = round(sum(v.get("pnl", 0.0) for v in rows.values()), 2)
    return step_put(app, PROCEDURE, r.key, "overnight_pnl",
                    {"trading_day": r.key, "since": since.isoformat(), "total_pnl": total, "accounts": rows})


def _startup_target(severity: Severity, scope: Scope, engine_target: TradingState | None) -> TradingState | None:
    """Seed rule: a critical violation halts the account, a warning halves its risk (REDUCING).

    Group and firm scopes keep their limit's own critical action (docs/risk.md), so a group-risk breach
    reduces rather than halts a whole group at 06:30; alert-only verdicts change nothing.
    """
    if engine_target is None:
        return None
    if severity is Severity.WARNING:
        return TradingState.REDUCING
    return TradingState.HALTED if scope.kind is ScopeKind.ACCOUNT else engine_target


def check_risk_violations(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Measure the whole firm once with `multiaccount.risk`, record violations, act through the state service.

    One deliberate read (no debounce: this is a check, not a tick). Rerunning the same day records no
    second violation row and no second state change (the service only ever raises severity).
    """
    from multiaccount.realtime.baseline import BaselineKeeper
    from multiaccount.risk import MarketData, RiskEngine, build_snapshot

    app, r = app_of(app), run_of(run)
    now = app.clock.now()
    read = read_fleet(app, list(app.firm.accounts))  # group and firm limits need every account
    keeper = BaselineKeeper(app.firm, app.store.kv)  # the realtime monitor's persisted baseline
    snap = build_snapshot(app.firm, read.states.values(), read.all_positions,
                          MarketData.from_config(app.firm.symbols, read.quotes()),
                          baseline=keeper.current(now), now=now)
    keeper.update(snap)
    verdicts = RiskEngine(app.firm, app.state_service, app.events).evaluate(snap)
    wanted = set(r.accounts)
    verdicts = [v for v in verdicts if v.scope.kind is not ScopeKind.ACCOUNT or v.scope.name in wanted]
    seen = _recorded_today(app, r)
    found, changed = [], []
    # critical first, untimed before timed: an untimed halt is applied once, a later timed one changes nothing
    for v in sorted(verdicts, key=lambda v: (v.severity is not Severity.CRITICAL, v.until is not None)):
        target = _startup_target(v.severity, v.scope, v.action.target_state)
        found.append({"scope": str(v.scope), "limit": v.limit, "severity": v.severity.value,
                      "measured": round(v.measured, 6), "threshold": v.threshold, "reason": v.reason,
                      "action": target.value if target else "alert"})
        if r.dry_run:
            continue
        key = (str(v.scope), v.limit, v.severity.value)
        if key not in seen:
            app.store.violations.record(v.scope, v.limit, v.measured, v.threshold, v.severity,
                                        action=target.value if target else "alert", reason=v.reason,
                                        detail={"procedure": PROCEDURE, "trading_day": r.key,
                                                **{k: str(x) for k, x in v.detail.items()}}, at=now)
            seen.add(key)
            publish(app, "risk_violation", v.severity, v.scope, f"{v.scope} {v.limit} at startup", v.reason,
                    limit_name=v.limit)
        if target is not None:
            rec = _apply(app, v, target)
            if rec is not None:
                changed.append({"scope": str(rec.scope), "state": rec.state.value, "reason": rec.reason})
    halted = sorted({f["scope"].split(":", 1)[1] for f in found
                     if f["action"] == "HALTED" and f["scope"].startswith("account:")})
    reduced = sorted({f["scope"].split(":", 1)[1] for f in found if f["action"] == "REDUCING"
                      and f["scope"].startswith("account:")} - set(halted))
    out = {"trading_day": r.key, "violations": found, "halted": halted, "risk_halved": reduced,
           "state_changes": changed, "unreachable": sorted(read.failed), "dry_run": r.dry_run}
    return out if r.dry_run else step_put(app, PROCEDURE, r.key, "check_risk_violations", out)


def _recorded_today(app: App, r: RunInfo) -> set[tuple[str, str, str]]:
    """(scope, limit, severity) this procedure already recorded for the trading day (rerun safety)."""
    from multiaccount.risk.calendar import trading_day_start

    rows = app.store.violations.list(since=trading_day_start(app.clock.now()) - _LOOKBACK)
    return {(v.scope, v.limit_name, v.severity) for v in rows
            if (v.detail or {}).get("procedure") == PROCEDURE and (v.detail or {}).get("trading_day") == r.key}


def _apply(app: App, v: Any, target: TradingState) -> Any:
    """Through the one writer: timed halts (daily loss) end at the next rollover; others need a resume."""
    service = app.state_service
    if target is TradingState.HALTED:
        return service.halt(v.scope, f"STARTUP_{v.reason}", ACTOR, until=v.until)
    return service.escalate(v.scope, target, f"STARTUP_{v.reason}", ACTOR)


def check_rebalance_need(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Drift of every account from its target (`multiaccount.rebalancing`); needed above the threshold or forced."""
    from multiaccount.procedures.rebalance import plan_key
    from multiaccount.rebalancing.service import make_plan

    app, r = app_of(app), run_of(run)
    plan = make_plan(app.store, app.firm, plan_key(r), app.clock.now(), force=r.force_rebalance)
    return {"trading_day": r.key, "needed": bool(plan.needed or r.force_rebalance), "max_drift": plan.max_drift,
            "threshold": plan.threshold, "forced": r.force_rebalance, "transfers": len(plan.transfers)}


def start_session(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Open the day for each group that is not HALTED and has at least one tradeable, connected account."""
    app, r = app_of(app), run_of(run)
    connections = step_get(app, PROCEDURE, r.key, "connections") or {"failed": []}
    service = app.state_service
    groups: dict[str, list[str]] = {}
    for acc in r.accounts:
        group = app.firm.group_of(acc)
        if acc in connections["failed"] or app.firm.accounts[acc].account_info.standby:
            continue
        if service.effective(acc) is TradingState.HALTED:
            continue
        groups.setdefault(group, []).append(acc)
    out = {"trading_day": r.key, "active_groups": groups, "dry_run": r.dry_run}
    if r.dry_run:
        return out
    first = step_get(app, PROCEDURE, r.key, "session") is None
    step_put(app, PROCEDURE, r.key, "session", {"active_groups": groups})
    if first:
        publish(app, "session_started", Severity.INFO, Scope.firm(), f"Trading session {r.key} started",
                ", ".join(f"{g}: {len(a)}" for g, a in groups.items()))
    return out


def run_daily_checklist(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """The seed's daily checklist, recorded in the store and linked beside the day's report."""
    from multiaccount.procedures import checklist

    app, r = app_of(app), run_of(run)
    return checklist.run("daily", r.key, app)
