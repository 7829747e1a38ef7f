"""RunInfo: the run a step belongs to, validated and JSON round-trippable (XCom)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from multiaccount.procedures.common import RunInfo, UnknownAccounts

AT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)


def _run(**kw) -> RunInfo:
    return RunInfo.create(instant=AT, timezone="Europe/London", **kw)


def test_run_info_when_unknown_account_requested_then_refused():
    with pytest.raises(UnknownAccounts):
        _run(accounts=["NOPE"])


def test_run_info_when_round_tripped_through_json_then_equal():
    r = _run(accounts=["EU_HF_001"], dry_run=True)
    assert RunInfo.from_dict(r.to_dict()) == r
    assert r.trading_day.isoformat() == "2026-12-01"
