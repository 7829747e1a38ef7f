"""Risk benchmark: snapshot + limit evaluation for 50 accounts / 500 positions, and pre-trade p99.

Targets: snapshot + limits < 5 ms and >= 20x faster than a per-account pandas loop measured in the
same run; pre-trade check p99 < 1 ms. Run: `.venv/bin/python benchmarks/bench_risk.py`.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from multiaccount.config import load_firm
from multiaccount.config.scaffold import scaffold_firm
from multiaccount.domain import AccountState, Position, Side
from multiaccount.risk import MarketData, RiskBaseline, RiskEngine, build_snapshot
from multiaccount.risk.pretrade import PreTradeChecker, PreTradeContext, Proposal

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def build_inputs(firm, n_positions=500, seed=11):
    rng = np.random.default_rng(seed)
    accounts = list(firm.accounts)
    symbols = [s for s in firm.symbols.symbols]
    quotes = {}
    for s, px in firm.symbols.reference_prices.items():
        half = firm.symbol(s).spread_points * firm.symbol(s).point / 2
        quotes[s] = (px - half, px + half)
    states = [AccountState(a, float(c.account_info.initial_balance), float(c.account_info.initial_balance) *
                           rng.uniform(0.97, 1.02), 1000.0, 0.0, None) for a, c in firm.accounts.items()]
    positions = []
    for k in range(n_positions):
        s = symbols[k % len(symbols)]
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        mid = firm.symbols.reference_prices[s]
        sl = None if rng.random() < 0.1 else mid - side.sign * mid * rng.uniform(0.002, 0.01)
        positions.append(Position(accounts[k % len(accounts)], k, s, side, 0.1, mid, sl, None, mid, 0.0))
    base = {a: float(c.account_info.initial_balance) for a, c in firm.accounts.items()}
    hist = pd.DataFrame({a: 100_000 * np.cumprod(1 + rng.normal(0, 0.01, 30)) for a in accounts})
    return states, positions, quotes, RiskBaseline(base, base), hist


def pandas_loop(firm, states, positions, quotes, baseline):
    """Baseline: the straightforward per-account pandas way (filter, compute, aggregate per account)."""
    df = pd.DataFrame([p.__dict__ for p in positions])
    eq = {s.account_id: s.equity for s in states}
    rows = []
    for acc in firm.accounts:
        sub = df[df["account_id"] == acc].copy()
        if sub.empty:
            rows.append((acc, 0.0))
            continue
        bid = sub["symbol"].map(lambda s: quotes[s][0])
        ask = sub["symbol"].map(lambda s: quotes[s][1])
        sign = sub["side"].map(lambda x: 1.0 if x == Side.BUY else -1.0)
        close = np.where(sign > 0, bid, ask)
        conv = sub["symbol"].map(lambda s: 1.0 if firm.symbol(s).quote == "USD" else
                                 1.0 / ((quotes[s][0] + quotes[s][1]) / 2) * 1.0)
        atr = sub["symbol"].map(lambda s: firm.symbols.reference_prices[s] * firm.symbol(s).annual_volatility /
                                math.sqrt(252))
        dist = np.where(sub["sl"].isna(), 2.0 * atr, (close - sub["sl"].fillna(0)) * sign).clip(min=0)
        risk = (sub["volume"] * 100_000 * conv * dist).sum()
        rows.append((acc, risk / eq[acc]))
        _ = (baseline.day_start[acc] - eq[acc]) / baseline.day_start[acc]
        _ = 1 - eq[acc] / baseline.peaks[acc]
    out = pd.DataFrame(rows, columns=["account", "risk"])
    out["group"] = out["account"].map(firm.group_of)
    return out.groupby("group")["risk"].sum()


def timeit(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        firm = load_firm(scaffold_firm(50, tmp))
        states, positions, quotes, baseline, hist = build_inputs(firm)
        market = MarketData.from_config(firm.symbols, quotes)
        engine = RiskEngine(firm)

        def vectorised():
            snap = build_snapshot(firm, states, positions, market, baseline=baseline, equity_history=hist, now=NOW)
            engine.evaluate(snap)

        vectorised()
        fast = statistics.median(timeit(vectorised, 50))
        slow = statistics.median(timeit(lambda: pandas_loop(firm, states, positions, quotes, baseline), 10))

        snap = build_snapshot(firm, states, positions, market, baseline=baseline, now=NOW)
        checker = PreTradeChecker(firm)
        ctx = PreTradeContext(snap, NOW, {})
        acc = next(a for a in firm.accounts if firm.covers(a, "EURUSD"))
        p = Proposal(acc, "EURUSD", Side.BUY, 0.1, quotes["EURUSD"][1], 1.0800)
        checker.check(p, ctx)
        lat = sorted(timeit(lambda: checker.check(p, ctx), 2000))
        p99 = lat[int(0.99 * len(lat)) - 1]
        pd_p99 = None

    rows = [
        {"benchmark": "snapshot+limits 50 acc/500 pos (ms)", "value": fast * 1e3, "baseline": slow * 1e3,
         "ratio": slow / fast, "target": "<5 ms and >=20x", "ok": fast < 0.005 and slow / fast >= 20},
        {"benchmark": "pre-trade check p99 (ms)", "value": p99 * 1e3, "baseline": pd_p99, "ratio": None,
         "target": "<1 ms", "ok": p99 < 0.001},
    ]
    try:
        from rich.console import Console
        from rich.table import Table
        table = Table(title="bench_risk")
        for col in ("benchmark", "value", "baseline", "ratio", "target", "ok"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["benchmark"], f"{r['value']:.3f}", "-" if r["baseline"] is None else f"{r['baseline']:.3f}",
                          "-" if r["ratio"] is None else f"{r['ratio']:.1f}x", r["target"], str(r["ok"]))
        Console().print(table)
    except ImportError:  # pragma: no cover
        for r in rows:
            print(r)  # noqa: T201
    return rows


if __name__ == "__main__":
    main()
