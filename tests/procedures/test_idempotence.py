"""Procedure steps rerun without Airflow: same state, no duplicate record or order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from multiaccount.bootstrap import bootstrap
from multiaccount.domain import ManualClock, Scope, TradingState
from multiaccount.procedures import daily_startup, end_of_day
from multiaccount.procedures.common import RunInfo, UnknownAccounts

AT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)


@pytest.fixture
def app(seed_firm):
    return bootstrap(seed_firm, clock=ManualClock(AT))


def _run(**kw) -> RunInfo:
    return RunInfo.create(instant=AT, timezone="Europe/London", **kw)


def test_run_info_when_unknown_account_requested_then_refused():
    with pytest.raises(UnknownAccounts):
        _run(accounts=["NOPE"])


def test_run_info_when_round_tripped_through_json_then_equal():
    r = _run(accounts=["EU_HF_001"], dry_run=True)
    assert RunInfo.from_dict(r.to_dict()) == r
    assert r.trading_day.isoformat() == "2026-12-01"


def test_risk_check_when_drawdown_breached_and_rerun_then_halted_once(app):
    app.fleet.transfer("EU_HF_001", -__import__("decimal").Decimal("15000"), "loss")  # 12.5 % below peak 120k
    r = _run(accounts=["EU_HF_001"])
    first = daily_startup.check_risk_violations(r, app=app)
    second = daily_startup.check_risk_violations(r, app=app)
    assert first["halted"] == second["halted"] == ["EU_HF_001"]
    assert app.states.get(Scope.account("EU_HF_001")).state is TradingState.HALTED
    assert len(app.states.history(Scope.account("EU_HF_001"))) == 1


def test_daily_report_when_generated_twice_then_registered_once(app):
    r = _run()
    end_of_day.calculate_daily_performance(r, app=app)
    assert end_of_day.generate_daily_report(r, app=app)["new"] is True
    assert end_of_day.generate_daily_report(r, app=app)["new"] is False
    assert len(app.ledger.records("reports")) == 1
