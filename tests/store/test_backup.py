"""Backup and restore: round trips across dialects, corruption refused, retention, consistency."""

from __future__ import annotations

import gzip
import io
import tarfile
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from multiaccount.domain import (
    AccountState,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    Position,
    Scope,
    Side,
    TradingSignal,
    TradingState,
)
from multiaccount.store import Store, dispose_engine
from multiaccount.store.backup import (
    BackupCorruptError,
    RestoreTargetNotEmptyError,
    create_backup,
    list_backups,
    prune_backups,
    read_account_states,
    restore_backup,
    table_checksums,
    verify_backup,
)
from multiaccount.store.models import Base

T0 = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)
ACCOUNTS = {"EU_HF_001": {"balance": 100000.0, "equity": 100250.5,
                          "positions": [{"ticket": 1, "symbol": "EURUSD", "volume": 0.5}]},
            "EU_SW_001": {"balance": 50000.0, "equity": 49999.99, "positions": []}}


def populate(store: Store) -> None:
    """At least one row in every table, with the awkward values (Decimals, unicode, JSON, NULLs)."""
    store.trading_states.set(Scope.account("EU_HF_001"), TradingState.HALTED, "drawdown 15.2% ≥ 15%", "monitor", at=T0)
    store.trading_states.set(Scope.firm(), TradingState.REDUCING, "margin", "ops", at=T0)
    intent = OrderIntent("ma-abc", "EU_HF_001", "EURUSD", Side.BUY, 0.37, price=1.08512, sl=1.08012, signal_id="s1",
                         factors={"base": 0.5})
    store.orders.reserve(intent, T0)
    store.orders.complete(OrderOutcome("ma-abc", "EU_HF_001", OrderStatus.FILLED, 10009, volume=0.37, price=1.0852),
                          T0)
    store.snapshots.record(AccountState("EU_HF_001", 100000.0, 100250.5, 1200.0, 99050.5, 8354.2083, at=T0))
    store.snapshots.record(AccountState("EU_SW_001", 50000.0, 50000.0, 0.0, 50000.0, None, connected=False, at=T0))
    store.positions.replace_open("EU_HF_001", [Position("EU_HF_001", 1, "EURUSD", Side.BUY, 0.5, 1.08, 1.07, None,
                                                        1.0812, 60.0, opened_at=T0)], T0)
    store.positions.record_deals("EU_HF_001", [{"ticket": 11, "order": 10, "type": 0, "entry": 0, "symbol": "EURUSD",
                                                "volume": 0.5, "price": 1.08, "commission": -3.5, "time": T0}])
    store.signals.record(TradingSignal(id="s1", symbol="EURUSD", side=Side.BUY, stop=1.07, strategy="trend",
                                       created=T0), T0)
    store.signals.record_route("s1", "EU_HF_001", "routed", client_id="ma-abc", volume=0.37, at=T0)
    incident = store.incidents.open("DD breach", "critical", Scope.account("EU_HF_001"), key="dd:1", at=T0)
    store.incidents.add_entry(incident.id, "flattened", at=T0)
    store.violations.record(Scope.account("EU_HF_001"), "max_drawdown", 0.152, 0.15, "critical", "halt", at=T0,
                            incident_id=incident.id)
    store.transfers.create_plan("rebalance:2026-12-01", [
        {"from_account": "EU_SW_001", "to_account": "EU_HF_001", "amount": Decimal("123456789012345.67")}], at=T0)
    store.performance.upsert_daily(date(2026, 12, 1), "firm", pnl=250.5, trades=1, data={"note": "ünïcode"})
    store.performance.upsert_monthly("2026-12", "firm", pnl=250.5)
    store.outbox.enqueue("dd|account:EU_HF_001", "critical", "#risk", {"text": "DD"}, at=T0)
    store.reports.upsert("daily", "2026-12-01", "html", "/r/daily.html", created_at=T0)
    store.audit.record("alice", "resume", "firm", {"why": None}, at=T0)
    store.heartbeat.beat("risk_monitor", T0, {"pid": 42})
    store.risk_events.append({"kind": "breach", "at": T0, "limit": "max_drawdown"})
    store.checklists.record("end_of_day", "2026-12-01", [("backup", True, "")], at=T0)
    store.kv.set("sod_equity:firm", {"equity": 150250.5})
    store.backups.record("multiaccount-backup-20261130T170500Z.tar.gz", "/elsewhere/x.tar.gz",
                         T0 - timedelta(days=1), 1234, "0" * 64, {"orders": 1})


def _targets(kind: str, tmp_path: Path, request) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.mark.parametrize("target_kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_restore_when_backup_round_trips_then_every_table_equal_and_state_preserved(store, tmp_path, request,
                                                                                   target_kind):
    populate(store)
    info = create_backup(store, ACCOUNTS, directory=tmp_path / "b", at=T0)
    target = _targets(target_kind, tmp_path, request)

    report = restore_backup(info.path, target)

    assert report.ok and report.account_states == ACCOUNTS
    assert table_checksums(target) == info.tables
    source_now = table_checksums(store.url)
    assert {n: s for n, s in info.tables.items() if n != "backups"} == {
        n: s for n, s in source_now.items() if n != "backups"}  # only the new index row differs
    assert all(info.tables[t.name].rows > 0 for t in Base.metadata.sorted_tables), "populate() missed a table"
    restored = Store.open(target)
    assert restored.trading_states.get(Scope.account("EU_HF_001")) == store.trading_states.get(
        Scope.account("EU_HF_001"))
    assert restored.transfers.list()[0].amount == Decimal("123456789012345.67")
    next_id = restored.risk_events.append({"kind": "after_restore"})  # sequences continue after restored ids
    assert next_id == store.risk_events.last_id() + 1
    dispose_engine(target)


def test_list_when_archive_unreadable_then_listed_with_error(sqlite_store, tmp_path):
    good = create_backup(sqlite_store, {}, directory=tmp_path, at=T0)
    bad = create_backup(sqlite_store, {}, directory=tmp_path, at=T0 + timedelta(hours=1))
    bad.path.write_bytes(b"not a gzip")
    listing = list_backups(tmp_path)
    assert [(b.name, b.error is None) for b in listing] == [(bad.name, False), (good.name, True)]
    assert listing[1].tables == good.tables


def test_verify_when_archive_intact_then_manifest_matches_and_index_marked(sqlite_store, tmp_path):
    populate(sqlite_store)
    info = create_backup(sqlite_store, ACCOUNTS, directory=tmp_path, at=T0)
    checked = verify_backup(info.path, sqlite_store)
    assert checked.sha256 == info.sha256 and checked.tables == info.tables
    assert sqlite_store.backups.get(info.name).status == "verified"
    assert read_account_states(info.path) == ACCOUNTS


def _corrupt_flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _corrupt_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])


def _corrupt_tamper(path: Path) -> None:
    """Re-pack a valid gzip whose audit dump was edited but whose manifest was not."""
    with tarfile.open(path, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        for member, data in members:
            if member.name == "tables/audit_log.jsonl":
                data = data.replace(b"alice", b"mallory")
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    path.write_bytes(gzip.compress(buf.getvalue()))


@pytest.mark.parametrize("damage", [_corrupt_flip, _corrupt_truncate, _corrupt_tamper],
                         ids=["flipped-byte", "truncated", "tampered-member"])
def test_restore_when_archive_damaged_then_refused_and_target_untouched(sqlite_store, tmp_path, damage):
    populate(sqlite_store)
    info = create_backup(sqlite_store, ACCOUNTS, directory=tmp_path / "b", at=T0)
    damage(info.path)
    target_path = tmp_path / "target.db"

    with pytest.raises(BackupCorruptError, match=info.name):
        verify_backup(info.path)
    with pytest.raises(BackupCorruptError):
        restore_backup(info.path, f"sqlite:///{target_path}")

    assert not target_path.exists() or target_path.stat().st_size == 0


def test_restore_when_target_holds_data_then_refused_and_nothing_overwritten(store, sqlite_store, tmp_path):
    populate(sqlite_store)
    info = create_backup(sqlite_store, {}, directory=tmp_path, at=T0)
    store.audit.record("bob", "existing", at=T0)
    before = table_checksums(store.url)
    with pytest.raises(RestoreTargetNotEmptyError):
        restore_backup(info.path, store.url)
    assert table_checksums(store.url) == before


def test_prune_when_more_than_keep_or_too_old_then_oldest_removed_newest_kept(sqlite_store, tmp_path):
    stamps = [T0 - timedelta(days=d) for d in (0, 1, 2, 3, 200)]
    for at in stamps:
        create_backup(sqlite_store, {}, directory=tmp_path, at=at, prune=False)
    removed = prune_backups(tmp_path, keep=3, max_age=timedelta(days=90), now=T0, store=sqlite_store)
    remaining = [b.created_at for b in list_backups(tmp_path)]
    assert remaining == stamps[:3] and len(removed) == 2
    assert len(sqlite_store.backups.list()) == 3
    # max_age alone: everything is older than a day, but the newest always stays
    prune_backups(tmp_path, keep=10, max_age=timedelta(hours=1), now=T0 + timedelta(days=30))
    assert [b.created_at for b in list_backups(tmp_path)] == stamps[:1]


def test_create_when_writers_active_then_snapshot_is_consistent(store, tmp_path):
    """A writer keeps an audit row and a kv counter in step inside one transaction; every backup must
    see them in step too (no torn read across tables)."""
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with store.session():
                store.audit.record("w", "tick", detail={"n": n})
                store.kv.set("ticks", n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        infos = [create_backup(store, {}, directory=tmp_path, at=T0 + timedelta(seconds=i), prune=False)
                 for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for info in infos:
        restored = f"sqlite:///{tmp_path / (info.name + '.db')}"
        restore_backup(info.path, restored)
        check = Store.open(restored)
        assert len(check.audit.list(limit=100_000)) == (check.kv.get("ticks") or 0)
        dispose_engine(restored)


def test_drill_when_newest_archive_readable_then_restored_and_verified(sqlite_store, tmp_path):
    from multiaccount.store.backup import BackupError, disaster_recovery_drill

    with pytest.raises(BackupError, match="no readable backup"):
        disaster_recovery_drill(tmp_path)
    populate(sqlite_store)
    older = create_backup(sqlite_store, ACCOUNTS, directory=tmp_path, at=T0)
    newest = create_backup(sqlite_store, {}, directory=tmp_path, at=T0 + timedelta(days=1))
    newest.path.write_bytes(b"garbage")  # unreadable newest: the drill falls back to the newest readable one
    report = disaster_recovery_drill(tmp_path)
    assert report.ok and report.account_states == ACCOUNTS and report.tables == older.tables
