"""End of day at the 17:00 New York rollover (seed: scripts/end_of_day.py), one function per step.

1. close day-trading positions where configured (groups with `intraday: true`) -> close_day_positions (per account)
2. daily performance                                                           -> calculate_daily_performance
3. daily report                                                                -> generate_daily_report
4. backup of account states                                                    -> backup_account_states
5. arm overnight monitoring                                                    -> arm_overnight_monitoring
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from multiaccount import paths
from multiaccount.bootstrap import App
from multiaccount.domain import Scope, Severity, client_order_id
from multiaccount.procedures._shared import app_of, publish, run_of
from multiaccount.procedures.common import RunInfo
from multiaccount.procedures.reporting import write_daily_report

ACTOR = "procedure:end_of_day"


def close_day_positions(run: dict[str, Any] | RunInfo, account_id: str, app: App | None = None) -> dict[str, Any]:
    """Flatten one intraday account; each close has a client id from (day, account, ticket), sent once."""
    app, r = app_of(app), run_of(run)
    group = app.firm.group_of(account_id)
    if not app.firm.groups[group].intraday:
        return {"account_id": account_id, "intraday": False, "closed": []}
    app.fleet.connect(account_id)
    closed, would = [], []
    for pos in app.fleet.positions(account_id):
        cid = client_order_id(f"eod:{r.key}", account_id, f"close:{pos.ticket}")
        if r.dry_run:
            would.append(pos.ticket)
            continue
        if app.ledger.get("orders", cid) is None:
            outcome = app.fleet.close(account_id, pos.ticket, cid)
            if outcome.status.value not in ("filled", "partial", "duplicate"):
                raise RuntimeError(f"CLOSE_FAILED: account={account_id}, ticket={pos.ticket}, "
                                   f"retcode={outcome.retcode}, reason={outcome.reason}")
            app.ledger.record_once("orders", cid, {"account_id": account_id, "ticket": pos.ticket, "purpose": "eod_close",
                                                   "trading_day": r.key, "status": outcome.status.value,
                                                   "volume": outcome.volume, "price": outcome.price})
        closed.append(pos.ticket)
    return {"account_id": account_id, "intraday": True, "closed": closed, "would_close": would}


def calculate_daily_performance(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Per account: equity, balance, day P&L (vs the previous close), positions; firm and group totals."""
    from multiaccount.procedures.daily_startup import _previous_close_equity

    app, r = app_of(app), run_of(run)
    prev = _previous_close_equity(app, r)
    accounts: dict[str, Any] = {}
    for acc in r.accounts:
        st = app.fleet.account_state(acc)
        base = prev.get(acc, float(app.firm.accounts[acc].account_info.initial_balance))
        accounts[acc] = {"group": app.firm.group_of(acc), "balance": st.balance, "equity": st.equity,
                         "pnl": round(st.equity - base, 2), "return": round((st.equity - base) / base, 6) if base else 0.0,
                         "positions": len(app.fleet.positions(acc))}
        peak = app.ledger.get("peak_equity", acc) or {"equity": 0.0}
        if st.equity > float(peak["equity"]) and not r.dry_run:
            app.ledger.upsert("peak_equity", acc, {"equity": st.equity, "trading_day": r.key})
    groups: dict[str, Any] = {}
    for acc, row in accounts.items():
        g = groups.setdefault(row["group"], {"equity": 0.0, "pnl": 0.0, "accounts": 0})
        g["equity"] = round(g["equity"] + row["equity"], 2)
        g["pnl"] = round(g["pnl"] + row["pnl"], 2)
        g["accounts"] += 1
    out = {"trading_day": r.key, "accounts": accounts, "groups": groups,
           "firm": {"equity": round(sum(a["equity"] for a in accounts.values()), 2),
                    "pnl": round(sum(a["pnl"] for a in accounts.values()), 2)}}
    if not r.dry_run:
        app.ledger.upsert("daily_performance", r.key, out)
    return out


def generate_daily_report(run: dict[str, Any] | RunInfo, performance: dict[str, Any] | None = None,
                          app: App | None = None) -> dict[str, Any]:
    """Write the day's report (same path per day: a rerun overwrites it) and register it once."""
    app, r = app_of(app), run_of(run)
    performance = performance or app.ledger.get("daily_performance", r.key) or calculate_daily_performance(r, app=app)
    files = write_daily_report(app, r, performance)
    record, created = app.ledger.record_once("reports", f"daily:{r.key}", {"files": files, "trading_day": r.key})
    return {"trading_day": r.key, "href": files[0], "files": files, "new": created}


def backup_account_states(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Account states and positions as JSON with a SHA-256, one file per trading day (rerun overwrites)."""
    app, r = app_of(app), run_of(run)
    snapshot = {}
    for acc in r.accounts:
        st = app.fleet.account_state(acc)
        snapshot[acc] = {"balance": st.balance, "equity": st.equity, "margin": st.margin,
                         "positions": [{"ticket": p.ticket, "symbol": p.symbol, "side": p.side.value,
                                        "volume": p.volume, "price_open": p.price_open, "sl": p.sl, "tp": p.tp}
                                       for p in app.fleet.positions(acc)]}
    body = json.dumps({"trading_day": r.key, "accounts": snapshot}, sort_keys=True, indent=1)
    digest = hashlib.sha256(body.encode()).hexdigest()
    target = paths.backups_dir() / "account_states" / f"{r.key}.json"
    if not r.dry_run:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        target.with_suffix(".json.sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    return {"trading_day": r.key, "path": str(target), "sha256": digest, "accounts": len(snapshot)}


def arm_overnight_monitoring(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Record tonight's watch (the realtime monitor and risk_watch read it) and say so once."""
    app, r = app_of(app), run_of(run)
    rc = app.firm.master.risk_controls
    watch = {"trading_day": r.key, "accounts": list(r.accounts), "armed_at": app.clock.now().isoformat(),
             "max_drawdown_per_account": rc.max_drawdown_per_account,
             "emergency_stop_threshold": app.firm.master.master_account.emergency_stop_threshold}
    if r.dry_run:
        return {**watch, "dry_run": True}
    first = app.ledger.get("overnight_monitoring", r.key) is None
    app.ledger.upsert("overnight_monitoring", r.key, watch)
    if first:
        publish(app, "overnight_monitoring", Severity.INFO, Scope.firm(), f"Overnight monitoring armed for {r.key}",
                limit_name=f"overnight-{r.key}")
    return watch
