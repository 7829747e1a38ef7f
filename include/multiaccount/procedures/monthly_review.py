"""Monthly review on the first trading day of the month (seed: Monthly Review Checklist).

It reviews the month *before* the run's trading day from the store (snapshots, deals, orders,
violations, states), so a rerun produces the same review. The analyses are the performance,
reports and store packages'; the report is `multiaccount.reports.service.monthly_review` with the
disaster-recovery result in it; the seed's monthly checklist runs last and is linked beside it.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from multiaccount.bootstrap import App
from multiaccount.procedures._shared import app_of, run_of, step_put
from multiaccount.procedures.common import RunInfo

PROCEDURE = "monthly_review"


def review_month(r: RunInfo) -> str:
    first = r.trading_day.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def _month(app: App, month: str) -> dict[str, Any]:
    """The month's frames from the store (plus the last valuation before it, to measure day one)."""
    from multiaccount.performance.returns import day_bounds
    from multiaccount.performance.sources import load_frames
    from multiaccount.reports.data import month_bounds

    first, last = month_bounds(month)
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    frames = load_frames(app.store, app.firm, since=(start - timedelta(days=7)).to_pydatetime(),
                         until=(end + timedelta(seconds=1)).to_pydatetime())
    return {**frames, "first": first, "start": start, "end": end}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.replace([float("inf"), float("-inf")], None).astype(object).where(df.notna(), None).to_dict("records")


def performance_review(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Per account and firm: month return, drawdown, Sharpe, Sortino (time-weighted; flows excluded),
    upserted into `store.performance` monthly rows."""
    from multiaccount.domain import Scope
    from multiaccount.performance import return_metrics
    from multiaccount.performance.returns import daily_returns

    app, r = app_of(app), run_of(run)
    month = review_month(r)
    m = _month(app, month)
    snaps, flows = m["snapshots"], m["flows"]
    rows = []
    for acc in [a for a in app.firm.accounts if a in r.accounts]:
        ret = daily_returns(snaps, flows, [acc])
        ret = ret[[d >= m["first"] for d in ret.index]] if len(ret) else ret
        mm = return_metrics(ret)
        mine = snaps[snaps["account_id"] == acc]
        margin_use = float((mine["margin"] / mine["equity"]).max()) if len(mine) else 0.0
        rows.append({"account_id": acc, "group": app.firm.group_of(acc), "days": len(ret),
                     "month_return": mm.cumulative_return, "max_drawdown": mm.max_drawdown if len(ret) else 0.0,
                     "sharpe": mm.sharpe, "sortino": mm.sortino, "max_margin_use": margin_use})
        if not r.dry_run:
            app.store.performance.upsert_monthly(month, Scope.account(acc), return_pct=mm.cumulative_return,
                                                 max_drawdown=mm.max_drawdown if len(ret) else 0.0,
                                                 sharpe=_finite(mm.sharpe), sortino=_finite(mm.sortino))
    firm_r = daily_returns(snaps, flows)
    firm_r = firm_r[[d >= m["first"] for d in firm_r.index]] if len(firm_r) else firm_r
    fm = return_metrics(firm_r)
    if not r.dry_run:
        app.store.performance.upsert_monthly(month, Scope.firm(), return_pct=fm.cumulative_return,
                                             max_drawdown=fm.max_drawdown if len(firm_r) else 0.0,
                                             sharpe=_finite(fm.sharpe), sortino=_finite(fm.sortino))
    return {"month": month, "trading_days": len(firm_r), "firm": {k: _finite(v) for k, v in fm.as_dict().items()},
            "accounts": _records(pd.DataFrame(rows))}


def cost_analysis(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Spread, commission, swap and slippage per account from the month's fills (`performance.costs`)."""
    from multiaccount.performance.costs import cost_analysis as costs

    app, r = app_of(app), run_of(run)
    month = review_month(r)
    fills = _month(app, month)["fills"]
    return {"month": month, "fills": len(fills), "accounts": _records(costs(fills, "account_id")) if len(fills) else []}


def correlation_review(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Highest pairwise correlation of daily returns inside each group against its `max_correlation`."""
    from multiaccount.reports.data import correlation

    app, r = app_of(app), run_of(run)
    m = _month(app, review_month(r))
    corr = correlation(m["snapshots"], m["flows"]) if len(m["snapshots"]) else pd.DataFrame()
    groups = {}
    for g in app.firm.groups:
        members = [a for a in app.firm.accounts_in(g) if a in corr.index]
        pairs = [(a, b, float(corr.at[a, b])) for i, a in enumerate(members) for b in members[i + 1:]]
        worst = max(pairs, key=lambda p: p[2], default=None)
        cap = app.firm.group_limits(g).max_correlation
        groups[g] = {"max_correlation": cap, "worst_pair": worst[:2] if worst else None,
                     "worst": round(worst[2], 4) if worst else None,
                     "breach": bool(worst and cap is not None and worst[2] > cap)}
    return {"month": review_month(r), "groups": groups}


def limit_breaches(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """The month's recorded risk violations (`store.violations`) by limit and severity, and its halts."""
    app, r = app_of(app), run_of(run)
    m = _month(app, review_month(r))
    rows = app.store.violations.list(since=m["start"].to_pydatetime(), until=m["end"].to_pydatetime())
    counts: dict[str, dict[str, int]] = {}
    for v in rows:
        counts.setdefault(v.limit_name, {}).setdefault(v.severity, 0)
        counts[v.limit_name][v.severity] += 1
    halts = [h for h in app.states.history(limit=10_000)
             if m["start"] <= pd.Timestamp(h.changed_at) <= m["end"] and h.state.value == "HALTED"]
    return {"month": review_month(r), "violations": len(rows), "by_limit": counts,
            "halts": [{"scope": str(h.scope), "reason": h.reason, "at": h.changed_at.isoformat()} for h in halts]}


def suggest_parameter_changes(run: dict[str, Any] | RunInfo, performance: dict[str, Any],
                              app: App | None = None) -> dict[str, Any]:
    """The reports package's rules (`risk_suggestions`); suggestions only, never applied automatically."""
    from multiaccount.reports.data import correlation, risk_suggestions

    app, r = app_of(app), run_of(run)
    m = _month(app, review_month(r))
    accounts = pd.DataFrame(performance["accounts"]).fillna(float("nan"))
    corr = correlation(m["snapshots"], m["flows"]) if len(m["snapshots"]) else pd.DataFrame()
    if accounts.empty:
        return {"month": review_month(r), "suggestions": []}
    return {"month": review_month(r), "suggestions": _records(risk_suggestions(app.firm, accounts, corr))}


def disaster_recovery_test(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Restore the newest backup into a scratch SQLite database (under a temporary folder) and compare:
    every table's checksum against the archive (`restore_backup` verifies row for row), row counts
    against the index written at backup time, and the archived broker states against the firm's
    accounts. A pass marks the backup verified in the store."""
    from multiaccount.procedures.backup import latest_backup
    from multiaccount.store import dispose_engine
    from multiaccount.store.backup import BackupError, restore_backup

    app, r = app_of(app), run_of(run)
    month, now = review_month(r), app.clock.now()
    row = latest_backup(app)
    if row is None:
        result = {"ok": False, "detail": "NO_BACKUP: no archive indexed in the store", "at": now.isoformat()}
        return result if r.dry_run else step_put(app, PROCEDURE, month, "dr_test", result)
    with tempfile.TemporaryDirectory(prefix=f"dr-test-{month}-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'restore.sqlite'}"
        try:
            report = restore_backup(row.path, url)
            restored = {t: s.rows for t, s in report.tables.items()}
            problems = [f"{t}: indexed {n} rows, restored {restored.get(t)}" for t, n in (row.row_counts or {}).items()
                        if restored.get(t) != n]
            missing = sorted(set(app.firm.accounts) - set(report.account_states))
            if missing:
                problems.append(f"broker states missing for {', '.join(missing)}")
        except BackupError as exc:
            restored, problems = {}, [f"{type(exc).__name__}: {exc}"]
        finally:
            dispose_engine(url)
    ok = not problems
    if ok and not r.dry_run:
        app.store.backups.mark_verified(row.name, now)
    detail = (f"restored {row.name} into a scratch SQLite database: {len(restored)} tables, "
              f"{sum(restored.values())} rows, checksums match" if ok else "; ".join(problems))
    result = {"ok": ok, "detail": detail, "at": now.isoformat(), "backup": row.name, "tables": len(restored),
              "rows": sum(restored.values())}
    return result if r.dry_run else step_put(app, PROCEDURE, month, "dr_test", result)


def generate_monthly_report(run: dict[str, Any] | RunInfo, dr: dict[str, Any] | None = None,
                            app: App | None = None) -> dict[str, Any]:
    """`multiaccount.reports` monthly review for the month, with the DR result; indexed in `store.reports`."""
    from multiaccount import paths
    from multiaccount.reports.service import monthly_review

    app, r = app_of(app), run_of(run)
    month = review_month(r)
    existed = app.store.reports.get("monthly", month, "html") is not None
    dr_test = {k: dr[k] for k in ("ok", "detail", "at")} if dr else None
    files = monthly_review(app.store, app.firm, month, app.clock.now(), dr_test=dr_test)
    root = paths.reports_dir()
    return {"month": month, "href": files["html"].relative_to(root).as_posix(),
            "files": {k: str(v.relative_to(root)) for k, v in files.items()}, "new": not existed}


def run_monthly_checklist(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """The seed's monthly checklist, recorded and linked beside the monthly report."""
    from multiaccount.procedures import checklist

    app, r = app_of(app), run_of(run)
    return checklist.run("monthly", review_month(r), app)


def _finite(x: float) -> float | None:
    return float(x) if x == x and abs(x) != float("inf") else None
