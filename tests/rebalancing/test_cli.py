"""CLI end to end on the default SQLite store: plan, execute (pending without terminals), confirm, report."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from multiaccount.cli import app
from multiaccount.domain import AccountState
from multiaccount.store import Store

EQUITY = {"EU_HF_001": 150_000, "EU_HF_002": 100_000, "EU_HF_003": 100_000, "EU_HF_004": 100_000,
          "EU_HF_005": 120_000, "SW_001": 100_000, "SW_002": 100_000, "SW_003": 100_000,
          "RD_001": 80_000, "RD_002": 50_000}


def test_rebalance_cli_when_drifted_then_plan_pending_confirm_and_report(seed_firm, monkeypatch):
    monkeypatch.setenv("MULTIACCOUNT_BROKER", "mt5")  # real terminals configured, none reachable here
    for a in EQUITY:
        monkeypatch.setenv(f"MT5_PASSWORD_{a}", "not-used")
    store = Store.open()
    at = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    store.snapshots.record_many(AccountState(a, e, e, 1000.0, e - 1000.0, e / 1000 * 100, at=at)
                                for a, e in EQUITY.items())
    runner = CliRunner()
    planned = runner.invoke(app, ["rebalance", "plan", "--key", "rebalance:test"])
    assert planned.exit_code == 0, planned.output
    assert "needed" in planned.output and "tr-" in planned.output
    executed = runner.invoke(app, ["rebalance", "execute", "--key", "rebalance:test", "--actor", "ops"])
    assert executed.exit_code == 0, executed.output
    assert "awaiting_confirmation" in executed.output  # no terminal reachable: instructions wait for a human
    again = runner.invoke(app, ["rebalance", "execute", "--key", "rebalance:test"])
    assert again.exit_code == 0
    pend = store.transfers.list(status="pending")
    assert len(pend) == len({t.note for t in pend}) and pend  # one row per transfer, rerun added none
    tid = pend[0].note.removeprefix("id=")
    confirmed = runner.invoke(app, ["rebalance", "confirm", tid, "--actor", "maria"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "executed by maria" in confirmed.output
    assert runner.invoke(app, ["rebalance", "confirm", "tr-unknown", "--actor", "maria"]).exit_code == 1
    listed = runner.invoke(app, ["rebalance", "pending"])
    assert tid not in listed.output
    rep = runner.invoke(app, ["report", "daily", "--date", "2026-12-01"])
    assert rep.exit_code == 0, rep.output
    assert sorted(r.format for r in store.reports.list(kind="daily")) == ["csv", "html", "xlsx"]


def test_rebalance_cli_when_simulated_terminals_then_transfers_execute_as_balance_operations(seed_firm):
    from multiaccount.brokers.factory import build_broker

    at = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    store = Store.open()
    store.snapshots.record_many(AccountState(a, e, e, 0.0, e, None, at=at) for a, e in EQUITY.items())
    result = CliRunner().invoke(app, ["rebalance", "execute", "--key", "rebalance:sim", "--actor", "ops"])
    assert result.exit_code == 0, result.output
    rows = store.transfers.list()
    assert rows and all(r.status == "executed" for r in rows)
    moved = [r for r in rows if r.from_account == "EU_HF_001"]
    assert moved, "the account 30,000 over target must send money"
    deals = build_broker(seed_firm, "EU_HF_001").deals(datetime(2026, 1, 1, tzinfo=UTC))
    assert any(d.kind == "balance" and d.profit < 0 for d in deals)
