"""Property tests of the planner: conservation, margin, minimum size, convergence when feasible."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from multiaccount.rebalancing import AccountCapital, plan_transfers
from multiaccount.rebalancing.targets import largest_remainder

NOW = datetime(2026, 12, 1, tzinfo=UTC)
money = st.integers(min_value=0, max_value=50_000_000).map(lambda c: D(c) / 100)  # up to 500k, in cents


@st.composite
def firms(draw, feasible: bool = False):
    n = draw(st.integers(2, 12))
    min_transfer = D(draw(st.sampled_from([0, 100, 1000, 5000])))
    buffer = draw(st.sampled_from([0.0, 0.5, 1.0]))
    equity = [draw(money) for _ in range(n)]
    weights = [D(draw(st.integers(1, 5))) for _ in range(n)]
    total = sum(equity, D(0))
    targets = largest_remainder(total, {f"A{i}": w for i, w in enumerate(weights)}) if total > 0 else \
        {f"A{i}": D(0) for i in range(n)}
    capital = {}
    for i, e in enumerate(equity):
        acc = f"A{i}"
        if feasible:
            margin = D(0)
            balance = e
            surplus = e - targets[acc]
            if surplus > 0 and surplus + max(min_transfer, D("0.01")) > e:
                # make room to overshoot by the minimum: feasibility by definition needs cap >= e + m
                return draw(st.nothing())
        else:
            margin = draw(money) / 4
            balance = e - draw(money) / 10 if draw(st.booleans()) else e
        capital[acc] = AccountCapital(acc, "g", balance, e, margin)
    return capital, targets, min_transfer, buffer


def _plan(capital, targets, m, buffer):
    return plan_transfers(capital, targets, plan_key="p", created_at=NOW, min_transfer=m, margin_buffer=buffer,
                          threshold=0.0, force=True)


@settings(max_examples=300, deadline=None)
@given(firms())
def test_plan_when_any_firm_then_money_conserved_margin_kept_and_minimum_respected(case):
    capital, targets, m, buffer = case
    plan = _plan(capital, targets, m, buffer)
    after = plan.projected()
    assert sum(after.values()) == sum(c.equity for c in capital.values())  # conservation
    out = {a: D(0) for a in capital}
    for t in plan.transfers:
        assert t.amount > 0 and t.from_account != t.to_account
        assert t.amount >= m  # never below min_transfer
        out[t.from_account] += t.amount
    for a, c in capital.items():
        assert out[a] <= c.capacity(buffer)  # never below margin x (1 + buffer), never more than balance
        if out[a] > 0:
            assert c.equity - out[a] >= c.margin * (1 + D(str(buffer)))
    assert len(plan.transfers) <= max(0, len(capital) - 1)  # few transfers
    ids = [t.transfer_id for t in plan.transfers]
    assert len(ids) == len(set(ids))


@settings(max_examples=300, deadline=None)
@given(firms(feasible=True))
def test_plan_when_feasible_then_every_account_within_min_transfer_of_target(case):
    capital, targets, m, buffer = case
    plan = _plan(capital, targets, m, buffer)
    tol = max(m, D("0.01"))
    assert all(abs(r) < tol for r in plan.residuals().values()), plan.residuals()
    assert plan.shortfalls == ()


@settings(max_examples=100, deadline=None)
@given(firms())
def test_plan_when_rerun_then_identical(case):
    capital, targets, m, buffer = case
    assert _plan(capital, targets, m, buffer).transfers == _plan(capital, targets, m, buffer).transfers
