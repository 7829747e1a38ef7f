"""Risk benchmark: snapshot + limit evaluation for 50 accounts / 500 positions, pre-trade p99, and
routing one signal.

Targets: snapshot + limits < 5 ms and >= 20x faster than a per-account pandas loop measured in the
same run; pre-trade check p99 < 1 ms; routing one signal to every eligible account of 50 on a fake
pool whose orders (and order_checks) take 20 ms costs <= 2x routing it to a single account, same run
(the fan-out is concurrent, so the order round trip is paid once). Run:
`.venv/bin/python benchmarks/bench_risk.py`.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from multiaccount.config import load_firm
from multiaccount.config.scaffold import scaffold_firm
from multiaccount.domain import AccountState, ManualClock, OrderOutcome, OrderStatus, Position, Side, TradingSignal
from multiaccount.risk import MarketData, RiskBaseline, RiskEngine, build_snapshot
from multiaccount.risk.pretrade import PreTradeChecker, PreTradeContext, Proposal

from _table import print_rows  # benchmarks/ is on sys.path (run directly or by run_all)

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


ORDER_LATENCY_S = 0.020


class LatencyPool:
    """A fake terminal pool for the routing rows: every order_send and order_check takes 20 ms and
    the fan-out is concurrent (one thread per order, as the terminal pool has one worker per
    terminal); reads answer at once. Nothing is kept, so every route meets the same book."""

    def __init__(self, firm, quotes, connected=None):
        self.firm = firm
        self.quotes = quotes
        connected = set(firm.accounts) if connected is None else set(connected)
        self.states = {a: AccountState(a, float(c.account_info.initial_balance), float(c.account_info.initial_balance),
                                       0.0, float(c.account_info.initial_balance), None, connected=a in connected,
                                       at=NOW) for a, c in firm.accounts.items()}
        self._ex = ThreadPoolExecutor(max_workers=50, thread_name_prefix="latency-pool")

    def account_states(self):
        return dict(self.states)

    def positions(self):
        return {}

    def is_simulated(self, _account_id: str) -> bool:
        return True  # research accounts trade too: the widest fan-out the firm allows

    def call(self, account_id, method, *args):
        if method == "symbol_info":
            spec = self.firm.symbol(args[0])
            bid, ask = self.quotes[args[0]]
            return SimpleNamespace(bid=bid, ask=ask, volume_min=spec.volume_min, volume_step=spec.volume_step,
                                   volume_max=spec.volume_max)
        if method == "check":
            time.sleep(ORDER_LATENCY_S)
            return OrderOutcome(args[0].client_id, account_id, OrderStatus.SKIPPED, 0, "CHECK_OK")
        raise AttributeError(method)

    def _send(self, intent):
        time.sleep(ORDER_LATENCY_S)
        bid, ask = self.quotes[intent.symbol]
        px = ask if intent.side is Side.BUY else bid
        return OrderOutcome(intent.client_id, intent.account_id, OrderStatus.FILLED, 10009, "done", intent.volume,
                            px, 1)

    def send_many(self, intents):
        return list(self._ex.map(self._send, intents))

    def close(self):
        self._ex.shutdown()


def bench_routing(firm, quotes, tmp: str, repeat: int = 7) -> dict:
    """Median wall time of `SignalRouter.route` for one signal: every eligible account of the firm vs
    one account (the pool reports the others disconnected), with the in-memory ledger, the SQLite
    store ledger, and the order_check option."""
    from multiaccount.domain.ports import InMemoryOrderLedger, InMemoryTradingStateRepository, RecordingEventSink
    from multiaccount.risk import TradingStateService
    from multiaccount.routing import SignalRouter
    from multiaccount.store import Store

    clock = ManualClock(NOW)
    store = Store.open(f"sqlite:///{Path(tmp) / 'bench_routing.db'}")
    states = TradingStateService(InMemoryTradingStateRepository(), RecordingEventSink(), clock, firm.group_of)
    wide = LatencyPool(firm, quotes)
    probe = SignalRouter(firm, wide, InMemoryOrderLedger(), states, clock, trades_today=dict)
    first = next(r.account_id for r in probe.route(signal_for(quotes, "probe")).of_status(OrderStatus.FILLED)
                 if not r.failover_for)
    narrow = LatencyPool(firm, quotes, connected={first})
    ids = iter(range(1_000_000))

    def run(pool, ledger, order_check=False) -> tuple[float, int]:
        router = SignalRouter(firm, pool, ledger, states, clock, trades_today=dict, order_check=order_check)
        router.route(signal_for(quotes, f"warm-{next(ids)}"))
        times, sent = [], set()
        for _ in range(repeat):
            t = time.perf_counter()
            report = router.route(signal_for(quotes, f"s-{next(ids)}"))
            times.append(time.perf_counter() - t)
            sent.add(len(report.of_status(OrderStatus.FILLED)))
        router.close()
        return statistics.median(times), min(sent)

    out = {}
    for label, ledger, check in (("memory", InMemoryOrderLedger, False), ("sqlite", lambda: store.orders, False),
                                 ("order_check", InMemoryOrderLedger, True)):
        many, n = run(wide, ledger(), check)
        one, n1 = run(narrow, ledger(), check)
        out[label] = {"many": many, "one": one, "n": n, "n1": n1}
    wide.close()
    narrow.close()
    return out


def signal_for(quotes, signal_id: str) -> TradingSignal:
    bid, _ask = quotes["EURUSD"]
    return TradingSignal(id=signal_id, symbol="EURUSD", side=Side.BUY, stop=round(bid - 0.0030, 5),
                         strategy="ict_patterns", created=NOW)


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
        routing = bench_routing(firm, quotes, tmp)

    rows = [
        {"benchmark": "snapshot+limits 50 acc/500 pos (ms)", "value": fast * 1e3, "baseline": slow * 1e3,
         "ratio": slow / fast, "target": "<5 ms and >=20x", "ok": fast < 0.005 and slow / fast >= 20},
        {"benchmark": "pre-trade check p99 (ms)", "value": p99 * 1e3, "baseline": pd_p99, "ratio": None,
         "target": "<1 ms", "ok": p99 < 0.001},
    ]
    what = {"memory": "in-memory ledger", "sqlite": "SQLite store ledger", "order_check": "order_check option"}
    for label, r in routing.items():
        rows.append({"benchmark": f"route 1 signal -> {r['n']} of 50 accounts vs 1, 20 ms orders, {what[label]} (ms)",
                     "value": r["many"] * 1e3, "baseline": r["one"] * 1e3, "ratio": r["many"] / r["one"],
                     "target": "<= 2x single-account route", "ok": r["many"] <= 2 * r["one"] and r["n"] > 1
                     and r["n1"] == 1})
    print_rows("bench_risk", rows, digits=3)
    return rows


if __name__ == "__main__":
    main()
