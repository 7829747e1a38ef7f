"""The accelerated week (issue 14): a scaffolded 50-account firm traded Monday to Friday on simulated
terminals with the `week_shocks` scenario, the realtime monitor, lifecycle rules, router and
procedures running together, unpaced (as fast as it goes).

Figures, each against a baseline from the same run or the requirement:
- simulated/wall speed vs the 600x the issue asks for;
- monitor tick p99 vs its budget at 600x (one driver step of simulated time / 600) and vs the 1 s
  real-time budget of the 1 Hz service;
- orders routed vs acknowledged + rejected with reason (must be equal, nothing pending in the ledger);
- RSS of the last quarter of the run vs the second quarter (bounded: within 10 % + 50 MB);
- longest unhandled breach vs the debounce window; positions without a stop (must be 0);
- the demo's month of history (`generate_month`, seed firm): wall seconds for 5 and for 21 trading
  days vs the 60 s budget of a full month, and 21 days vs 5 days x 21/5 (cost per day does not grow).

Run: `.venv/bin/python benchmarks/bench_week.py` (MULTIACCOUNT_BENCH_WEEK_DAYS / _ACCOUNTS shorten it,
MULTIACCOUNT_BENCH_HISTORY_DAYS=0 skips the history rows).
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

TARGET_SPEED = 600.0
HISTORY_BUDGET_S = 60.0  # a full month (21 trading days) of demo history on 2 cores
SCENARIO = Path(__file__).resolve().parents[1] / "config" / "scenarios" / "week_shocks.json"


def run_week(accounts: int, days: int, step: timedelta = timedelta(minutes=1)):
    from multiaccount.config import load_firm
    from multiaccount.config.scaffold import scaffold_firm
    from multiaccount.simulation import SimulationOptions, simulate
    from multiaccount.store import Store

    home = Path(tempfile.mkdtemp(prefix="bench-week-"))
    os.environ["MULTIACCOUNT_HOME"] = str(home)  # run_all.py restores it
    os.environ.pop("MULTIACCOUNT_DB_URL", None)
    firm = load_firm(scaffold_firm(accounts, home / "config"))
    options = SimulationOptions(days=days, step=step, seed=7, market_seed=7, scenario=SCENARIO)
    return simulate(firm, Store.open(), options), options


def run_history(days: int) -> tuple[float, object]:
    """`generate_month` on the seed firm from Monday 2026-11-02 in its own data folder; (wall s, history)."""
    import time
    from datetime import date

    from multiaccount.config import load_firm
    from multiaccount.simulation.history import generate_month
    from multiaccount.store import Store

    os.environ["MULTIACCOUNT_HOME"] = tempfile.mkdtemp(prefix=f"bench-history-{days}-")
    os.environ.pop("MULTIACCOUNT_DB_URL", None)
    firm = load_firm(Path(__file__).resolve().parents[1] / "config")
    started = time.perf_counter()
    month = generate_month(firm, Store.open(), date(2026, 11, 2), trading_days=days, seed=11)
    return time.perf_counter() - started, month


def history_rows(full_days: int) -> list[dict]:
    short_days = 5
    short, _ = run_history(short_days)
    full, month = run_history(full_days)
    budget = HISTORY_BUDGET_S * full_days / 21
    flat = month.report.procedures.get("end_of_day", 0) == full_days and not any(
        k.endswith("_failed") for k in month.report.procedures)
    return [
        _row(f"history {short_days} trading days: wall s vs month budget x {short_days}/21", short,
             HISTORY_BUDGET_S * short_days / 21, "ratio <= 1", short <= HISTORY_BUDGET_S * short_days / 21),
        _row(f"history {full_days} trading days: wall s vs budget ({month.report.routed} orders)", full, budget,
             "ratio <= 1, end_of_day never failed", full <= budget and flat),
        _row(f"history {full_days} days vs {short_days} days x {full_days}/{short_days}", full,
             short * full_days / short_days, "ratio <= 1.25", full <= 1.25 * short * full_days / short_days),
    ]


def _row(name: str, value: float, baseline: float, target: str, ok: bool) -> dict:
    ratio = value / baseline if baseline else float("inf")
    return {"benchmark": name, "value": round(value, 3), "baseline": round(baseline, 3), "ratio": round(ratio, 3),
            "target": target, "ok": bool(ok)}


def main() -> list[dict]:
    accounts = int(os.environ.get("MULTIACCOUNT_BENCH_WEEK_ACCOUNTS", 50))
    days = int(os.environ.get("MULTIACCOUNT_BENCH_WEEK_DAYS", 5))
    report, options = run_week(accounts, days)
    step_budget_ms = options.step.total_seconds() / TARGET_SPEED * 1000
    accounted = report.acknowledged + report.rejected + report.unknown + report.duplicates
    slack_mb = 50.0 + 0.10 * report.rss_second_quarter_mb
    rows = [
        _row(f"{accounts} accounts x {days} days: simulated/wall speed", report.speed, TARGET_SPEED,
             f">= {TARGET_SPEED:.0f}x", report.speed >= TARGET_SPEED),
        _row("wall seconds for the run", report.wall_seconds,
             report.simulated_seconds / TARGET_SPEED, "<= simulated / 600", report.speed >= TARGET_SPEED),
        _row("monitor tick p99 ms vs step budget at 600x", report.tick_p99_ms, step_budget_ms, "ratio <= 1",
             report.tick_p99_ms <= step_budget_ms),
        _row("monitor tick p99 ms vs 1 s real-time budget", report.tick_p99_ms, 1000.0, "ratio <= 0.25",
             report.tick_p99_ms <= 250.0),
        _row(f"orders routed vs acknowledged {report.acknowledged} + rejected {report.rejected}", report.routed,
             accounted, "ratio == 1, ledger pending 0", report.orders_accounted),
        _row("RSS MB last quarter vs second quarter", report.rss_last_quarter_mb, report.rss_second_quarter_mb,
             f"<= 1.10 + {slack_mb - 0.1 * report.rss_second_quarter_mb:.0f} MB", report.memory_bounded),
        _row("longest unhandled breach s vs debounce window", report.longest_unhandled_breach_seconds,
             report.debounce_window_seconds, "ratio <= 1", report.breaches_within_debounce),
        _row("positions without stop (max at a step end) vs open max", report.positions_without_stop_max,
             max(1, report.positions_open_max), "0", report.positions_without_stop_max == 0),
    ]
    history_days = int(os.environ.get("MULTIACCOUNT_BENCH_HISTORY_DAYS", 21))
    if history_days:
        rows.extend(history_rows(history_days))
    table = Table(title=f"bench_week: {report.signals} signals, {report.routed} orders routed, "
                        f"{len(report.halts)} halts, {report.emergency_stops} emergency stops")
    for col in ("benchmark", "value", "baseline", "ratio", "target", "ok"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["benchmark"], str(r["value"]), str(r["baseline"]), str(r["ratio"]), r["target"],
                      "yes" if r["ok"] else "NO")
    Console().print(table)
    return rows


if __name__ == "__main__":
    main()
