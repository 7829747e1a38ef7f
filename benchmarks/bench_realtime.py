"""Realtime benchmark on a scaffolded 50-account firm with 20 ms simulated order latency.

1. Flatten 50 accounts x 10 positions: time from the trigger (the monitor's flatten call) until every
   account is verified flat; target < 1 s. Baseline: one close round trip measured in the same run.
2. Monitor loop at 1 Hz on 50 accounts: CPU seconds (whole process, pool threads included) per tick,
   as a share of one core at 1 Hz; target < 10 %. Baseline: the same tick's wall time.
3. Signal in -> every order acknowledged (the router's one `send_many` returned), through the router
   (read, sizing + pre-trade checks, ledger reserve, fan-out) for every eligible account, median of
   steady-state signals; target <= 2x a single order round trip measured in the same run. Steady
   state = as in the service, the 1 Hz monitor has read the fleet since the last write (the fleet
   view answers; accounts written since are re-read). Printed beside it: the same with a stale view
   (the whole fleet read on the signal's path), the first signal after start, the end of
   `submit_signal` (routes persisted), and the API client's view: `POST /v1/signals` through uvicorn on
   loopback until the 202.
Run: `.venv/bin/python benchmarks/bench_realtime.py`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _table import print_rows  # benchmarks/ is on sys.path (run directly or by run_all)

LATENCY_MS = 20.0
POSITIONS = 10


def _runtime(firm, clock, scenario, size: int):
    from multiaccount.bootstrap import bootstrap
    from multiaccount.brokers.factory import build_pool
    from multiaccount.domain.ports import RecordingEventSink
    from multiaccount.realtime.pool import TerminalPoolAdapter
    from multiaccount.realtime.runtime import build_runtime
    from multiaccount.store import Store

    pool = TerminalPoolAdapter(build_pool(firm, clock=clock, mode="simulated", seed=7, scenario=scenario,
                                          pool_mode="thread", size=size).start())
    store = Store.open()
    sink = RecordingEventSink()
    app = bootstrap(firm, clock=clock, store=store, events=sink, fleet=object())
    return build_runtime(app, pool=pool, store=store, alerts=sink, publishers=[], flatten_backoff_seconds=0.05)


def _open(rt, accounts, n: int, tag: str) -> None:
    from multiaccount.domain import OrderIntent, Side, client_order_id

    intents = [OrderIntent(client_order_id(f"{tag}-{k}", a), a, "EURUSD", Side.BUY, 0.01)
               for a in accounts for k in range(n)]
    rt.pool.send_many(intents)


def bench_flatten(rt, accounts) -> dict[str, float]:
    from multiaccount.risk.emergency import flatten_accounts

    _open(rt, accounts[:1], 1, "single")
    t = time.perf_counter()
    rt.pool.close_positions(accounts[0])
    single = time.perf_counter() - t
    _open(rt, accounts, POSITIONS, "flat")
    opened = len(rt.pool.positions())
    t = time.perf_counter()
    report = flatten_accounts(rt.pool, accounts, attempts=5, backoff_seconds=0.05)
    elapsed = time.perf_counter() - t
    return {"single": single, "flatten": elapsed, "opened": opened, "flat": report.flat}


def bench_monitor(rt, clock, ticks: int = 10) -> dict[str, float]:
    rt.monitor.tick()  # warm caches
    cpu, wall = [], []
    for _ in range(ticks):
        clock.advance(timedelta(seconds=1))
        c0, w0 = time.process_time(), time.perf_counter()
        rt.monitor.tick()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu": statistics.median(cpu), "wall": statistics.median(wall)}


def _single_rtt(rt, account: str, tag: str) -> float:
    from multiaccount.domain import OrderIntent, Side, client_order_id

    t = time.perf_counter()
    rt.pool.send_many([OrderIntent(client_order_id(tag, account), account, "EURUSD", Side.BUY, 0.01)])
    return time.perf_counter() - t


def _next_signal(rt, accounts, tag: str, *, monitor_read: bool = True) -> tuple[float, dict]:
    """Set up one timed signal (untimed): a week later (same weekday and hour, a fresh daily trade
    count), every account flat, the monitor's read (unless a stale view is wanted), the single-order
    baseline; returns that baseline and the signal's JSON with a stop 30 pips under the live bid."""
    from multiaccount.risk.emergency import flatten_accounts

    rt.clock.advance(timedelta(days=7))
    flatten_accounts(rt.pool, accounts, attempts=5, backoff_seconds=0.05)
    if monitor_read:
        rt.monitor.tick()  # the service's 1 Hz monitor has read the fleet since (steady state)
    single = _single_rtt(rt, accounts[0], f"rtt-{tag}")
    bid = rt.pool.call(accounts[0], "symbol_info", "EURUSD").bid
    return single, {"id": f"bench-{tag}", "symbol": "EURUSD", "side": "buy", "stop": round(bid - 0.0030, 5),
                    "strategy": "ict_patterns", "created": rt.clock.now().isoformat()}


def bench_signal(rt, accounts, signals: int = 3) -> dict:
    """Signal in -> every order acknowledged, in steady state.

    "Acknowledged" is the moment the router's one `send_many` returns (every terminal has answered),
    not the end of `submit_signal`, which goes on to write the ledger outcomes and the per-account
    routes. The first signal after start is reported apart: it pays one-off costs (SQL statement
    compilation, cold terminal caches) a running service pays once. Between signals the clock moves a
    week (same weekday and hour) and every account is flattened (untimed), so each signal meets the
    same limits and daily trade counts; the single-order baseline is measured before each signal, on
    the same pool."""
    from multiaccount.domain import TradingSignal

    rt.warm_up()  # as `multiaccount serve` does at start
    acks: list[float] = []
    route_time: list[float] = []
    inner_send, inner_route = rt.pool.send_many, rt.router.route

    def timed_send(*a, **k):
        try:
            return inner_send(*a, **k)
        finally:
            acks.append(time.perf_counter())

    def timed_route(*a, **k):
        t0 = time.perf_counter()
        try:
            return inner_route(*a, **k)
        finally:
            route_time.append(time.perf_counter() - t0)

    runs = []
    for k in range(2 * (signals + 1)):
        stale = k % 2 == 1  # odd signals: the monitor has not read since the flatten (full read)
        single, body = _next_signal(rt, accounts, f"signal-{k}", monitor_read=not stale)
        signal = TradingSignal.model_validate(body)
        acks.clear()
        route_time.clear()
        rt.pool.send_many, rt.router.route = timed_send, timed_route
        try:
            t = time.perf_counter()
            result = rt.submit_signal(signal, source="bench")
            done = time.perf_counter()
        finally:
            rt.pool.send_many, rt.router.route = inner_send, inner_route
        runs.append({"stale": stale, "single": single, "acked": (acks[-1] if acks else done) - t, "total": done - t,
                     "route": route_time[0] if route_time else 0.0,
                     "n_acked": sum(r["status"] in ("filled", "partial", "placed") for r in result["results"]),
                     "results": len(result["results"]),
                     "reasons": sorted({r["reason"].split(":")[0] for r in result["results"] if r["reason"]})})
    cold, steady = runs[0], [r for r in runs[2:] if not r["stale"]]
    stale = [r for r in runs[1:] if r["stale"]]

    def med(key: str, of: list[dict] = steady) -> float:
        return statistics.median(r[key] for r in of)

    return {"single": med("single"), "signal": med("acked"), "total": med("total"), "route": med("route"),
            "acked": min(r["n_acked"] for r in steady), "results": steady[-1]["results"],
            "reasons": steady[-1]["reasons"], "cold": cold, "n": len(steady),
            "stale_signal": med("acked", stale), "stale_single": med("single", stale), "stale_n": len(stale),
            "stale_acked": min(r["n_acked"] for r in stale)}


def bench_http(rt, accounts, signals: int = 3) -> dict:
    """The same signal as an API client sends it: `POST /v1/signals` to `multiaccount serve`'s app under
    uvicorn on loopback, over a kept-alive connection, until the 202 arrives (orders acknowledged, ledger
    outcomes and routes persisted). Steady state as in `bench_signal`."""
    import socket
    import threading

    import httpx
    import uvicorn

    from multiaccount.realtime.api import create_app

    token = "bench-token-0123456789"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(rt, token), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="bench-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    runs = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                          timeout=10) as client:
            for k in range(signals + 1):
                single, body = _next_signal(rt, accounts, f"http-{k}")
                t = time.perf_counter()
                response = client.post("/v1/signals", json=body)
                elapsed = time.perf_counter() - t
                response.raise_for_status()
                acked = sum(r["status"] in ("filled", "partial", "placed") for r in response.json()["results"])
                runs.append({"single": single, "http": elapsed, "acked": acked})
    finally:
        server.should_exit = True
        thread.join(10)
    steady = runs[1:]
    return {"single": statistics.median(r["single"] for r in steady), "http": statistics.median(r["http"] for r in steady),
            "acked": min(r["acked"] for r in steady), "n": len(steady)}


def main() -> list[dict]:
    from multiaccount.brokers.simulated.scenarios import Scenario
    from multiaccount.config import load_firm
    from multiaccount.config.scaffold import scaffold_firm
    from multiaccount.domain import ManualClock

    saved_home = os.environ.get("MULTIACCOUNT_HOME")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MULTIACCOUNT_HOME"] = str(Path(tmp) / "home")
        firm = load_firm(scaffold_firm(50, Path(tmp) / "config"))
        clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        scenario = Scenario.model_validate({"name": "bench", "events": [{"kind": "latency", "ms": LATENCY_MS}]})
        accounts = sorted(firm.accounts)
        rt = _runtime(firm, clock, scenario, size=50)
        try:
            flat = bench_flatten(rt, accounts)
            _open(rt, accounts, 2, "mon")
            mon = bench_monitor(rt, clock)
            sig = bench_signal(rt, accounts)
            http = bench_http(rt, accounts)
        finally:
            rt.pool.close()
    if saved_home is None:
        os.environ.pop("MULTIACCOUNT_HOME", None)
    else:
        os.environ["MULTIACCOUNT_HOME"] = saved_home

    rows = [
        {"benchmark": f"flatten 50 x {POSITIONS} positions (ms)", "value": flat["flatten"] * 1e3,
         "baseline": flat["single"] * 1e3, "ratio": flat["flatten"] / flat["single"],
         "target": "< 1000 ms from trigger, all flat",
         "ok": flat["flatten"] < 1.0 and flat["flat"] and flat["opened"] == 50 * POSITIONS},
        {"benchmark": "monitor tick CPU, 50 accounts (% of a core at 1 Hz)", "value": mon["cpu"] * 100,
         "baseline": mon["wall"] * 100, "ratio": mon["cpu"] / 0.10, "target": "< 10 %", "ok": mon["cpu"] < 0.10},
        {"benchmark": f"signal in -> {sig['acked']} orders acked, steady median of {sig['n']} (ms)",
         "value": sig["signal"] * 1e3,
         "baseline": sig["single"] * 1e3, "ratio": sig["signal"] / sig["single"],
         "target": "<= 2x single order round trip",
         "ok": sig["signal"] <= 2 * sig["single"] and sig["acked"] > 0},
        {"benchmark": f"same, view stale (full fleet read first), median of {sig['stale_n']} (ms)",
         "value": sig["stale_signal"] * 1e3, "baseline": sig["stale_single"] * 1e3,
         "ratio": sig["stale_signal"] / sig["stale_single"], "target": "informative (monitor lagging)",
         "ok": sig["stale_acked"] > 0},
        {"benchmark": f"HTTP POST /v1/signals -> 202 ({http['acked']} acked, outcomes and routes stored), "
                      f"median of {http['n']} (ms)",
         "value": http["http"] * 1e3, "baseline": http["single"] * 1e3, "ratio": http["http"] / http["single"],
         "target": "informative (the API client's view)", "ok": http["acked"] > 0},
    ]
    console = print_rows(f"bench_realtime (order latency {LATENCY_MS:.0f} ms, 50 accounts on 50 terminals)", rows)
    cold = sig["cold"]
    console.print(f"signal: {sig['acked']}/{sig['results']} accounts acknowledged; skip/reject codes: "
                  f"{', '.join(sig['reasons']) or 'none'}; steady medians: acked {sig['signal'] * 1e3:.0f} ms, "
                  f"SignalRouter.route {sig['route'] * 1e3:.0f} ms (ledger outcomes written after the acks), "
                  f"submit_signal {sig['total'] * 1e3:.0f} ms (routes persisted); first signal after start (warmed up): "
                  f"acked {cold['acked'] * 1e3:.0f} ms, submit_signal {cold['total'] * 1e3:.0f} ms "
                  f"(one-off warm-up)")
    return rows


if __name__ == "__main__":
    main()
