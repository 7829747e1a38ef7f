"""Monthly review on the first trading day of the month (seed: Monthly Review Checklist).

It reviews the month *before* the run's trading day, from the recorded daily performance, so a
rerun produces the same review. Seed items that need a human (broker relationship, technology
stack, documentation, strategy allocation decisions) are listed in the compliance checklist as
open items for the risk officer; everything measurable is computed.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.procedures._shared import app_of, run_of
from multiaccount.procedures.common import RunInfo
from multiaccount.procedures.reporting import write_monthly_report

MANUAL_ITEMS = ["Broker relationship review", "Technology stack update", "Documentation updates",
                "Strategy allocation adjustment (decide on suggestions)", "Portfolio rebalancing strategy review"]


def review_month(r: RunInfo) -> str:
    first = r.trading_day.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def _daily(app: App, month: str) -> list[dict[str, Any]]:
    return [rec for rec in app.ledger.records("daily_performance", month)]


def performance_review(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    month = review_month(r)
    days = _daily(app, month)
    accounts: dict[str, Any] = {}
    for acc in r.accounts:
        rets = [d["accounts"][acc]["return"] for d in days if acc in d.get("accounts", {})]
        pnl = sum(d["accounts"][acc]["pnl"] for d in days if acc in d.get("accounts", {}))
        compounded = 1.0
        for x in rets:
            compounded *= 1 + x
        vol = statistics.pstdev(rets) if len(rets) > 1 else 0.0
        accounts[acc] = {"group": app.firm.group_of(acc), "days": len(rets), "pnl": round(pnl, 2),
                         "return": round(compounded - 1, 6),
                         "sharpe": round(statistics.fmean(rets) / vol * 252 ** 0.5, 3) if vol > 0 else None}
    groups: dict[str, Any] = {}
    for acc, row in accounts.items():
        g = groups.setdefault(row["group"], {"pnl": 0.0, "accounts": []})
        g["pnl"] = round(g["pnl"] + row["pnl"], 2)
        g["accounts"].append(acc)
    return {"month": month, "trading_days": len(days), "accounts": accounts, "groups": groups}


def cost_analysis(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Commission, swap and (where recorded) slippage per account from the broker's deal history."""
    app, r = app_of(app), run_of(run)
    month = review_month(r)
    start = date.fromisoformat(month + "-01")
    from datetime import UTC, datetime

    since = datetime(start.year, start.month, 1, tzinfo=UTC)
    rows: dict[str, Any] = {}
    for acc in r.accounts:
        broker = getattr(app.fleet, "broker", None)
        try:
            deals = broker(acc).deals(since) if broker else []
        except Exception as exc:  # noqa: BLE001 - an offline account is listed, not fatal
            rows[acc] = {"error": str(exc)}
            continue
        deals = [d for d in deals if getattr(d, "time", since).strftime("%Y-%m") == month]
        rows[acc] = {"deals": len(deals), "commission": round(sum(getattr(d, "commission", 0.0) for d in deals), 2),
                     "swap": round(sum(getattr(d, "swap", 0.0) for d in deals), 2),
                     "fee": round(sum(getattr(d, "fee", 0.0) for d in deals), 2)}
    return {"month": month, "accounts": rows}


def correlation_review(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Pairwise correlation of daily returns within each group against the group's max_correlation."""
    app, r = app_of(app), run_of(run)
    days = _daily(app, review_month(r))
    series = {a: [d["accounts"][a]["return"] for d in days if a in d.get("accounts", {})] for a in r.accounts}
    out: dict[str, Any] = {}
    for group, definition in app.firm.groups.items():
        cap = app.firm.group_limits(group).max_correlation
        accs = [a for a in definition.accounts if len(series.get(a, [])) >= 3]
        pairs = []
        for i, a in enumerate(accs):
            for b in accs[i + 1:]:
                n = min(len(series[a]), len(series[b]))
                try:
                    c = statistics.correlation(series[a][:n], series[b][:n])
                except statistics.StatisticsError:
                    continue
                pairs.append({"a": a, "b": b, "corr": round(c, 3), "breach": cap is not None and c > cap})
        out[group] = {"max_correlation": cap, "pairs": pairs}
    return {"groups": out}


def limit_breaches(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    month = review_month(r)
    startup = [x for x in app.ledger.records("startup_risk", month) if x.get("violations")]
    halts = [h for h in app.states.history(limit=1000) if h.changed_at.strftime("%Y-%m") == month
             and h.state.value == "HALTED"]
    return {"month": month, "startup_violation_days": len(startup),
            "violations": {x["trading_day"]: x["violations"] for x in startup},
            "halts": [{"scope": str(h.scope), "reason": h.reason, "at": h.changed_at.isoformat()} for h in halts]}


def suggest_parameter_changes(performance: dict[str, Any], correlations: dict[str, Any],
                              breaches: dict[str, Any]) -> dict[str, Any]:
    """Rules a risk officer would apply first; suggestions only, never applied automatically."""
    out = []
    for acc, row in performance["accounts"].items():
        if row["return"] < -0.05:
            out.append({"account": acc, "parameter": "risk_per_trade", "suggest": "reduce by 25 %",
                        "why": f"month return {row['return']:.2%}"})
    for group, g in correlations["groups"].items():
        for p in g["pairs"]:
            if p["breach"]:
                out.append({"group": group, "parameter": "strategy_allocation", "suggest": "diversify",
                            "why": f"{p['a']}/{p['b']} correlation {p['corr']} > {g['max_correlation']}"})
    for day, v in breaches.get("violations", {}).items():
        for acc, items in v.items():
            out.append({"account": acc, "parameter": items[0]["limit"], "suggest": "review", "why": f"breached on {day}"})
    return {"suggestions": out}


def disaster_recovery_test(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Restore the last backup into a scratch database and compare row counts with the live store."""
    from multiaccount.procedures.backup import _sqlite_file, latest_backup, verify_files

    app, r = app_of(app), run_of(run)
    folder = latest_backup()
    if folder is None:
        return {"ok": False, "reason": "NO_BACKUP: no verified backup to restore"}
    verified = verify_files(folder)
    result: dict[str, Any] = {"backup": folder.name, "checksums_ok": verified["ok"]}
    copy = folder / "store.sqlite"
    live = _sqlite_file()
    if copy.exists():
        with tempfile.TemporaryDirectory() as scratch:
            restored = Path(scratch) / "restored.sqlite"
            shutil.copy2(copy, restored)
            con = sqlite3.connect(restored)
            tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
            con.close()
        result["restored_tables"] = len(counts)
        if live is not None and live.exists():
            con = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
            live_tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            con.close()
            result["missing_tables"] = sorted(live_tables - set(counts))
    result["ok"] = verified["ok"] and not result.get("missing_tables")
    app.ledger.upsert("dr_test", review_month(r), result)
    return result


def compliance_review(run: dict[str, Any] | RunInfo, dr: dict[str, Any], breaches: dict[str, Any],
                      app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    month = review_month(r)
    automatic = {
        "Account performance review": True,
        "Cost analysis (spreads, commissions)": True,
        "Disaster recovery test": bool(dr.get("ok")),
        "Risk parameter optimization (suggestions produced)": True,
        "No unresolved halts": not breaches.get("halts"),
        "Reports generated every trading day": len(app.ledger.records("reports", f"daily:{month}")) > 0,
    }
    checklist = {"month": month, "automatic": automatic, "manual_open": MANUAL_ITEMS}
    app.ledger.upsert("checklists", f"monthly:{month}", checklist)
    return checklist


def generate_monthly_report(run: dict[str, Any] | RunInfo, sections: dict[str, Any],
                            app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    month = review_month(r)
    files = write_monthly_report(r, month, sections)
    _, created = app.ledger.record_once("reports", f"monthly:{month}", {"files": files, "month": month})
    return {"month": month, "href": files[0], "files": files, "new": created}
