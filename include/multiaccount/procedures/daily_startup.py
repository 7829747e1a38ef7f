"""Daily startup (seed: scripts/daily_startup.py), one function per seed step.

1. verify every terminal connection (reconnect; report n/N)   -> verify_connection, summarize_connections
2. overnight positions and P&L                               -> overnight_pnl
3. risk violations: critical halts the account, a warning
   halves its risk for the day                               -> check_risk_violations
4. rebalance if drift exceeds the threshold                  -> check_rebalance_need (the rebalancing DAG runs
                                                                on the asset this step's successor emits)
5. start the trading session for active groups               -> start_session
"""

from __future__ import annotations

import logging
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.procedures._shared import (
    accounts_by_group,
    app_of,
    publish,
    run_of,
    set_state_once,
    state_of,
)
from multiaccount.procedures.common import RunInfo

log = logging.getLogger(__name__)
ACTOR = "procedure:daily_startup"
WARNING_RISK_MULTIPLIER = 0.5


def verify_connection(run: dict[str, Any] | RunInfo, account_id: str, app: App | None = None) -> dict[str, Any]:
    """Connect (or reconnect) one account's terminal; raises when it stays down so the task retries."""
    app, r = app_of(app), run_of(run)
    app.fleet.connect(account_id)
    state = app.fleet.account_state(account_id)
    return {"account_id": account_id, "connected": True, "equity": state.equity, "trading_day": r.key}


def summarize_connections(run: dict[str, Any] | RunInfo, results: list[dict[str, Any]] | None,
                          app: App | None = None) -> dict[str, Any]:
    """n/N connected; the missing ones are alerted (their mapped task failed after its retries)."""
    app, r = app_of(app), run_of(run)
    ok = sorted({x["account_id"] for x in (results or []) if x and x.get("connected")})
    failed = [a for a in r.accounts if a not in ok]
    summary = {"connected": len(ok), "total": len(r.accounts), "failed": failed}
    app.ledger.upsert("connections", r.key, summary)
    if failed:
        publish(app, "connection_failure", Severity.CRITICAL, Scope.firm(),
                f"{len(ok)}/{len(r.accounts)} terminals connected", f"not connected: {', '.join(failed)}",
                limit_name=f"startup-{r.key}")
    return summary


def _previous_close_equity(app: App, r: RunInfo) -> dict[str, float]:
    from multiaccount.procedures.calendar import TradingCalendar

    cal = TradingCalendar.of(app.firm.sessions.holidays)
    prev = cal.previous_trading_day(r.trading_day).isoformat()
    rec = app.ledger.get("daily_performance", prev) or {}
    return {a: row["equity"] for a, row in rec.get("accounts", {}).items()}


def overnight_pnl(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Equity now against the previous trading day's end-of-day equity (balance when none was recorded)."""
    app, r = app_of(app), run_of(run)
    closes = _previous_close_equity(app, r)
    rows: dict[str, Any] = {}
    for acc in r.accounts:
        try:
            st = app.fleet.account_state(acc)
        except Exception as exc:  # noqa: BLE001 - an offline account is reported, not fatal here
            rows[acc] = {"error": str(exc)}
            continue
        base = closes.get(acc, st.balance)
        positions = app.fleet.positions(acc)
        rows[acc] = {"equity": st.equity, "pnl": round(st.equity - base, 2), "positions": len(positions)}
    total = round(sum(v.get("pnl", 0.0) for v in rows.values()), 2)
    out = {"trading_day": r.key, "total_pnl": total, "accounts": rows}
    app.ledger.upsert("overnight", r.key, out)
    return out


def _violations(app: App, acc: str) -> list[dict[str, Any]]:
    """The startup checks of the seed: drawdown from peak, margin use, broker margin level."""
    rc = app.firm.master.risk_controls
    st = app.fleet.account_state(acc)
    peak_rec = app.ledger.get("peak_equity", acc) or {}
    peak = max(float(peak_rec.get("equity", 0.0)), float(app.firm.accounts[acc].account_info.initial_balance),
               st.equity)
    out = []
    drawdown = 1 - st.equity / peak if peak > 0 else 0.0
    if drawdown >= rc.max_drawdown_per_account:
        out.append({"limit": "max_drawdown_per_account", "severity": "critical", "measured": round(drawdown, 4),
                    "threshold": rc.max_drawdown_per_account})
    elif drawdown >= rc.max_drawdown_per_account * rc.warn_fraction:
        out.append({"limit": "max_drawdown_per_account", "severity": "warning", "measured": round(drawdown, 4),
                    "threshold": rc.max_drawdown_per_account})
    margin_use = st.margin / st.equity if st.equity > 0 else 0.0
    if margin_use > rc.margin_call_threshold:
        out.append({"limit": "margin_call_threshold", "severity": "warning", "measured": round(margin_use, 4),
                    "threshold": rc.margin_call_threshold})
    if st.margin > 0 and st.margin_level is not None and st.margin_level < st.margin_so_call * rc.margin_level_buffer:
        out.append({"limit": "margin_level", "severity": "critical", "measured": round(st.margin_level, 1),
                    "threshold": st.margin_so_call * rc.margin_level_buffer})
    return out


def check_risk_violations(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Critical: HALT the account. Warning: halve its risk per trade for the day. Applied once per day."""
    app, r = app_of(app), run_of(run)
    found: dict[str, list[dict[str, Any]]] = {}
    halted, reduced = [], []
    for acc in r.accounts:
        try:
            v = _violations(app, acc)
        except Exception as exc:  # noqa: BLE001 - offline: already reported by the connection step
            log.warning("risk check skipped for %s: %s", acc, exc)
            continue
        if not v:
            continue
        found[acc] = v
        worst = "critical" if any(x["severity"] == "critical" for x in v) else "warning"
        if r.dry_run:
            continue
        if worst == "critical":
            reason = "STARTUP_" + v[0]["limit"].upper() + f": measured={v[0]['measured']}, limit={v[0]['threshold']}"
            if set_state_once(app, Scope.account(acc), TradingState.HALTED, reason, ACTOR):
                publish(app, "risk_violation", Severity.CRITICAL, Scope.account(acc), f"{acc} halted at startup",
                        reason, limit_name=v[0]["limit"])
            halted.append(acc)
        else:
            _, created = app.ledger.record_once("risk_multiplier", f"{r.key}:{acc}",
                                                {"multiplier": WARNING_RISK_MULTIPLIER, "violations": v})
            if created:
                publish(app, "risk_violation", Severity.WARNING, Scope.account(acc),
                        f"{acc} risk halved for {r.key}", str(v), limit_name=v[0]["limit"])
            reduced.append(acc)
    out = {"trading_day": r.key, "violations": found, "halted": halted, "risk_halved": reduced,
           "dry_run": r.dry_run}
    app.ledger.upsert("startup_risk", r.key, out)
    return out


def check_rebalance_need(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Largest relative drift from target capital; `needed` when above the master threshold (or forced)."""
    from multiaccount.procedures.rebalance import compute_targets

    app, r = app_of(app), run_of(run)
    targets = compute_targets(r, app=app)
    threshold = app.firm.master.master_account.rebalance_threshold
    needed = r.force_rebalance or targets["max_drift"] > threshold
    return {"trading_day": r.key, "needed": bool(needed), "max_drift": targets["max_drift"], "threshold": threshold,
            "forced": r.force_rebalance}


def start_session(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Open the day for each group that is not HALTED and has at least one ACTIVE, connected account."""
    app, r = app_of(app), run_of(run)
    connections = app.ledger.get("connections", r.key) or {"failed": []}
    groups: dict[str, list[str]] = {}
    for group, accs in accounts_by_group(app, r.accounts).items():
        if app.states.get(Scope.group(group)).state is TradingState.HALTED:
            continue
        live = [a for a in accs if a not in connections["failed"] and state_of(app, a) is not TradingState.HALTED
                and not app.firm.accounts[a].account_info.standby]
        if live:
            groups[group] = live
    out = {"trading_day": r.key, "active_groups": groups, "dry_run": r.dry_run}
    if not r.dry_run:
        first = app.ledger.get("session", r.key) is None
        app.ledger.upsert("session", r.key, {"active_groups": groups})
        if first:
            publish(app, "session_started", Severity.INFO, Scope.firm(), f"Trading session {r.key} started",
                    ", ".join(f"{g}: {len(a)}" for g, a in groups.items()))
    return out
