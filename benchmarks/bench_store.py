"""Store benchmark (SQLite, the default): each figure is a ratio against a baseline measured in the same run.

- snapshot batch: `snapshots.record_many` of 50 accounts vs 50 single `record` calls (target >= 5x faster);
- order reserve: `orders.reserve` vs a raw sqlite3 INSERT OR IGNORE + commit (overhead target <= 15x: the
  price of a session-per-call unit of work, ~0.5 ms, small against a broker round trip);
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from multiaccount.domain import AccountState, OrderIntent, Side
from multiaccount.store import Store, dispose_engine
from multiaccount.store.backup import create_backup, verify_backup

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
    return {"benchmark": name, "value": value, "baseline": baseline, "ratio": ratio, "target": target, "ok": ok}


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
        rows = [bench_snapshots(store), bench_reserve(store, folder), bench_latest(store),
                bench_backup(store, folder)]
        dispose_engine(url)
    print(f"{'benchmark':32} {'value':>10} {'baseline':>10} {'ratio':>8} {'target':>7}  ok")
    for r in rows:
        print(f"{r['benchmark']:32} {r['value']:10.4f} {r['baseline']:10.4f} {r['ratio']:8.2f} {r['target']:7.1f}  "
              f"{'yes' if r['ok'] else 'NO'}")
    return rows


if __name__ == "__main__":
    main()
