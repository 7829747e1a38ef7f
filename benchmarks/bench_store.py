"""Store benchmark (SQLite, the default): each figure is a ratio against a baseline measured in the same run.

- snapshot batch: `snapshots.record_many` of 50 accounts vs 50 single `record` calls (target >= 5x faster);
- order reserve: `orders.reserve` vs a raw sqlite3 INSERT OR IGNORE + commit (overhead target <= 15x: the
  price of a session-per-call unit of work, ~0.5 ms, small against a broker round trip);
- ledger batches (the realtime signal path): `orders.reserve_many` / `orders.complete_many` of one signal's
  50 orders vs 50 single `reserve` / `complete` calls in one transaction (targets >= 1.2x / >= 1.5x: on SQLite
  the per-row index work is most of the cost; PostgreSQL, with a round trip per statement, gains 2-3x);
- latest per account: `snapshots.latest()` over 50 x 400 rows vs loading the series and taking the last
  row per account in pandas (target >= 2x faster);
- backup + verify of that store vs the SQLite online-backup copy of the same file (cost target <= 60x:
  the archive is dialect-neutral JSON with checksums, the baseline is a page copy).
Run: `.venv/bin/python benchmarks/bench_store.py`.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from multiaccount.domain import AccountState, OrderIntent, OrderOutcome, OrderStatus, Side
from multiaccount.store import Store, dispose_engine
from multiaccount.store.backup import create_backup, verify_backup

from _table import print_rows  # benchmarks/ is on sys.path (run directly or by run_all)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACCOUNTS = [f"ACC_{i:03d}" for i in range(50)]


def _timed(fn, repeat: int = 3) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _states(tick: int) -> list[AccountState]:
    at = T0 + timedelta(seconds=tick)
    return [AccountState(a, 100_000.0, 100_000.0 + tick, 1_000.0, 99_000.0 + tick, 10_000.0, at=at) for a in ACCOUNTS]


def _row(name: str, value: float, baseline: float, target: float, higher_is_better: bool) -> dict:
    ratio = baseline / value if higher_is_better else value / baseline
    ok = ratio >= target if higher_is_better else ratio <= target
    bound = f"{'>=' if higher_is_better else '<='} {target:g}x"
    return {"benchmark": name, "value": value, "baseline": baseline, "ratio": ratio, "target": bound,
            "ok": ok}


def bench_snapshots(store: Store) -> dict:
    tick = iter(range(10**6))
    batch = _timed(lambda: store.snapshots.record_many(_states(next(tick))))
    single = _timed(lambda: [store.snapshots.record(s) for s in _states(next(tick))])
    return _row("snapshot batch of 50 (s)", batch, single, 5.0, higher_is_better=True)


def bench_reserve(store: Store, folder: Path) -> dict:
    n = 200
    ids = iter(range(10**6))

    def via_store() -> None:
        for _ in range(n):
            store.orders.reserve(OrderIntent(f"ma-{next(ids)}", "ACC_000", "EURUSD", Side.BUY, 0.1), T0)

    raw = sqlite3.connect(folder / "raw.db", timeout=30)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("CREATE TABLE orders (client_id TEXT PRIMARY KEY, account_id TEXT, symbol TEXT, volume TEXT)")

    def via_driver() -> None:
        for _ in range(n):
            raw.execute("INSERT OR IGNORE INTO orders VALUES (?, 'ACC_000', 'EURUSD', '0.1')", (f"ma-{next(ids)}",))
            raw.commit()

    return _row(f"order reserve x{n} (s)", _timed(via_store), _timed(via_driver), 15.0, higher_is_better=False)


def _fan_out(batch: int) -> list[OrderIntent]:
    """One signal's orders, shaped like the router's (prices, stop, sizing factors)."""
    return [OrderIntent(f"ma-fan-{batch}-{a}", a, "EURUSD", Side.BUY, 0.37, price=1.08512, sl=1.08012,
                        signal_id=f"sig-{batch}", factors={"base": 0.5, "correlation": 0.74})
            for a in ACCOUNTS]


def _fills(intents: list[OrderIntent]) -> list[OrderOutcome]:
    return [OrderOutcome(i.client_id, i.account_id, OrderStatus.FILLED, 10009, "", 0.37, 1.08515, 10 + n,
                         20 + n, 12.5) for n, i in enumerate(intents)]


def bench_ledger_batches(store: Store, repeat: int = 20) -> list[dict]:
    """Each run gets fresh ids (a reserve of a known id is a cheaper no-op); best of `repeat`."""
    batches = iter(range(10**6))
    orders = store.orders

    def singles(call: Callable[[Any, datetime], object], items: list) -> None:
        with store.session():
            for item in items:
                call(item, T0)

    def best(run: Callable[[Any], object], prepare: Callable[[], Any]) -> float:
        times = []
        for _ in range(repeat):
            arg = prepare()
            start = time.perf_counter()
            run(arg)
            times.append(time.perf_counter() - start)
        return min(times)

    def reserved() -> list[OrderOutcome]:
        intents = _fan_out(next(batches))
        orders.reserve_many(intents, T0)
        return _fills(intents)

    def fresh() -> list[OrderIntent]:
        return _fan_out(next(batches))

    reserve = _row("order ledger: reserve_many of 50 vs 50 single reserves in one transaction (s)",
                   best(lambda i: orders.reserve_many(i, T0), fresh),
                   best(lambda i: singles(orders.reserve, i), fresh), 1.2, higher_is_better=True)
    complete = _row("order ledger: complete_many of 50 vs 50 single completes in one transaction (s)",
                    best(lambda o: orders.complete_many(o, T0), reserved),
                    best(lambda o: singles(orders.complete, o), reserved), 1.5, higher_is_better=True)
    return [reserve, complete]


def bench_latest(store: Store) -> dict:
    store.snapshots.record_many(s for t in range(400) for s in _states(t))

    def via_pandas() -> None:
        frame = store.snapshots.series()
        frame.sort_values("at").groupby("account_id").tail(1)

    return _row("latest per account (s)", _timed(store.snapshots.latest), _timed(via_pandas), 2.0,
                higher_is_better=True)


def bench_backup(store: Store, folder: Path) -> dict:
    def archive() -> None:
        info = create_backup(store, {}, directory=folder / "archives", prune=False)
        verify_backup(info.path)

    def page_copy() -> None:
        src = sqlite3.connect(store.url.removeprefix("sqlite:///"))
        dst = sqlite3.connect(folder / "copy.db")
        src.backup(dst)
        dst.close()
        src.close()

    return _row("backup+verify 20k rows (s)", _timed(archive, 2), _timed(page_copy, 2), 60.0,
                higher_is_better=False)


def main() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        store = Store.open(url)
        rows = [bench_snapshots(store), bench_reserve(store, folder), *bench_ledger_batches(store),
                bench_latest(store), bench_backup(store, folder)]
        dispose_engine(url)
    print_rows("bench_store (SQLite, WAL)", rows, digits=4)
    return rows


if __name__ == "__main__":
    main()
