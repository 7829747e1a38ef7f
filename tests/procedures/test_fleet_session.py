"""Procedures touching several accounts in one process go through ONE terminal session (MT5: one
terminal per process), so a login switch for one account is seen when another is read."""

from __future__ import annotations

from multiaccount.bootstrap import broker_fleet


def test_broker_fleet_when_several_accounts_then_one_shared_terminal_session(seed_firm, clock):
    fleet = broker_fleet(seed_firm, clock)
    a, b = fleet.broker("EU_HF_001"), fleet.broker("SW_001")
    assert a.session is b.session
    fleet.connect("EU_HF_001")
    fleet.connect("SW_001")
    assert fleet.account_state("EU_HF_001").account_id == "EU_HF_001"
    assert fleet.account_state("SW_001").account_id == "SW_001"
    # reading alternately forces login switches on the shared session; balances never mix up
    states = [fleet.account_state(x) for x in ("EU_HF_001", "SW_001", "EU_HF_001")]
    assert [s.balance for s in states] == [120_000, 100_000, 120_000]
