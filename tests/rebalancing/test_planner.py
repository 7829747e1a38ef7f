"""Targets, drift and the transfer planner on hand-checked cases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from multiaccount.rebalancing import (
    AccountCapital,
    RiskReduction,
    account_targets,
    drift,
    group_drifts,
    plan_emergency,
    plan_transfers,
    transfer_id,
)
from tests.fixtures.analytics import capital_from

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
SEED_EQUITY = {"EU_HF_001": 150_000, "EU_HF_002": 100_000, "EU_HF_003": 100_000, "EU_HF_004": 100_000,
               "EU_HF_005": 120_000, "SW_001": 100_000, "SW_002": 100_000, "SW_003": 100_000,
               "RD_001": 80_000, "RD_002": 50_000}


def _plan(capital, targets, **kw):
    args = {"plan_key": "rebalance:2026-12-01", "created_at": NOW, "min_transfer": D(1000), "margin_buffer": 0.5,
            "threshold": 0.05} | kw
    return plan_transfers(capital, targets, **args)


def test_account_targets_when_seed_firm_then_groups_get_allocation_split_equally_with_backup(seed_firm):
    cap = capital_from(seed_firm, SEED_EQUITY)
    t = account_targets(seed_firm, cap)
    assert sum(t.values()) == D("1000000.00")
    assert {t[a] for a in seed_firm.accounts_in("high_frequency")} == {D("120000.00")}  # 600k / 5, backup included
    assert {t[a] for a in seed_firm.accounts_in("swing_trading")} == {D("100000.00")}
    assert t["RD_001"] == t["RD_002"] == D("50000.00")


def test_account_targets_when_odd_cents_then_sum_is_exact(seed_firm):
    eq = dict(SEED_EQUITY, EU_HF_001=D("150000.01"), SW_003=D("99999.99") + D("0.01"))
    cap = capital_from(seed_firm, eq)
    t = account_targets(seed_firm, cap)
    assert sum(t.values()) == sum(c.equity for c in cap.values())
    assert all(v == v.quantize(D("0.01")) for v in t.values())


def test_account_targets_when_weights_given_then_group_split_follows_them(seed_firm):
    cap = capital_from(seed_firm, SEED_EQUITY)
    t = account_targets(seed_firm, cap, {"SW_001": 2})
    assert t["SW_001"] == D("150000.00") and t["SW_002"] == D("75000.00")


def test_drift_when_target_zero_then_zero_or_infinite():
    assert drift(D(0), D(0)) == 0.0 and drift(D(5), D(0)) == float("inf")
    assert drift(D(110), D(100)) == pytest.approx(0.10)


def test_plan_when_seed_firm_drifted_then_transfers_reach_targets(seed_firm):
    cap = capital_from(seed_firm, SEED_EQUITY, margin=5_000)
    t = account_targets(seed_firm, cap)
    plan = _plan(cap, t)
    assert plan.needed and plan.max_drift == pytest.approx(0.60)  # RD_001: 80k vs 50k
    # surpluses: RD_001 30k, EU_HF_001 30k; deficits: EU_HF_002..004 20k each
    assert plan.total_moved == D(60_000)
    assert all(v == 0 for v in plan.residuals().values())
    assert len(plan.transfers) <= 4
    assert all(x.transfer_id == transfer_id(plan.plan_key, x.from_account, x.to_account) for x in plan.transfers)


def test_plan_when_drift_below_threshold_then_no_transfers(seed_firm):
    eq = {a: 100_000 for a in SEED_EQUITY}
    cap = capital_from(seed_firm, eq)
    targets = {a: D(100_000) for a in eq}
    targets["EU_HF_001"] = D(96_000)
    targets["EU_HF_002"] = D(104_000)
    plan = _plan(cap, targets)
    assert not plan.needed and plan.transfers == ()
    forced = _plan(cap, targets, force=True)
    assert [(x.from_account, x.to_account, x.amount) for x in forced.transfers] == [
        ("EU_HF_001", "EU_HF_002", D(4000))]


def test_plan_when_margin_limits_source_then_capacity_respected_and_shortfall_reported():
    cap = {"A": AccountCapital("A", "g", D(150_000), D(150_000), D(90_000)),
           "B": AccountCapital("B", "g", D(50_000), D(50_000), D(0))}
    plan = _plan(cap, {"A": D(100_000), "B": D(100_000)})
    # A must keep 90k x 1.5 = 135k: only 15k may leave
    assert [(x.from_account, x.amount) for x in plan.transfers] == [("A", D(15_000))]
    assert any(s.startswith("MARGIN_CAPACITY: account=A") for s in plan.shortfalls)
    assert any(s.startswith("UNFUNDED_DEFICIT: account=B") for s in plan.shortfalls)


def test_plan_when_balance_below_equity_then_floating_profit_is_not_transferred():
    cap = {"A": AccountCapital("A", "g", D(120_000), D(160_000), D(0)),
           "B": AccountCapital("B", "g", D(40_000), D(40_000), D(0))}
    plan = _plan(cap, {"A": D(100_000), "B": D(100_000)}, min_transfer=D(100))
    assert plan.total_moved == D(60_000)
    cap2 = {"A": AccountCapital("A", "g", D(30_000), D(160_000), D(0)), "B": cap["B"]}
    assert _plan(cap2, {"A": D(100_000), "B": D(100_000)}).total_moved == D(30_000)


def test_plan_when_gaps_below_min_transfer_then_minimum_sent_and_overshoot_below_minimum():
    cap = {f"S{i}": AccountCapital(f"S{i}", "g", D(10_999), D(10_999), D(0)) for i in range(10)}
    cap["D"] = AccountCapital("D", "g", D(90_010), D(90_010), D(0))
    targets = {a: D(10_000) for a in cap if a != "D"} | {"D": D(100_000)}
    plan = _plan(cap, targets)
    assert all(x.amount >= D(1000) for x in plan.transfers)
    assert all(abs(r) < D(1000) for r in plan.residuals().values())
    assert len(plan.transfers) == 9  # the tenth source's 999 is below the minimum and D is within it


def test_plan_when_pools_separate_live_and_paper_then_no_money_crosses(seed_firm):
    cap = capital_from(seed_firm, SEED_EQUITY)
    t = account_targets(seed_firm, cap)
    plan = _plan(cap, t, pool_of=lambda a: "live" if seed_firm.live_trading(a) else "paper")
    for x in plan.transfers:
        assert seed_firm.live_trading(x.from_account) == seed_firm.live_trading(x.to_account)
    assert plan.targets["RD_001"] == plan.targets["RD_002"] == D(65_000)  # paper pool holds 130k
    assert plan.projected()["RD_001"] == D(65_000)
    assert sum(plan.projected()[a] for a in ("RD_001", "RD_002")) == D(130_000)


def test_plan_emergency_when_reduction_frees_margin_then_more_can_move():
    cap = {"A": AccountCapital("A", "g", D(150_000), D(150_000), D(90_000)),
           "B": AccountCapital("B", "g", D(50_000), D(50_000), D(0))}
    targets = {"A": D(100_000), "B": D(100_000)}
    normal = _plan(cap, targets)
    red = [RiskReduction("A", "close 5 lots EURUSD #42", D(60_000), 42)]
    plan = plan_emergency(cap, targets, red, plan_key="emergency:1", created_at=NOW, min_transfer=D(1000),
                          margin_buffer=0.5)
    assert normal.total_moved == D(15_000)
    assert plan.total_moved == D(50_000)  # margin 30k x 1.5 = 45k kept; 105k could leave
    assert plan.reductions == tuple(red) and plan.reason == "emergency"


def test_group_drifts_when_hf_over_allocated_then_positive_drift(seed_firm):
    cap = capital_from(seed_firm, SEED_EQUITY)
    g = group_drifts(seed_firm, cap, account_targets(seed_firm, cap))
    assert g["research"] == pytest.approx(0.30)  # 130k vs 100k
    assert g["high_frequency"] == pytest.approx(30_000 / 600_000)
