"""Exact money and aware time survive both databases unchanged (property tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multiaccount.store.types import ExactDecimal

MONEY = ExactDecimal(20, 2)
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999999999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amounts=st.lists(AMOUNTS, min_size=1, max_size=5))
def test_transfer_amounts_when_stored_then_read_back_exactly(store, amounts):
    plan, _ = store.transfers.create_plan(f"p-{len(store.transfers.plans(limit=10_000))}",
                                          [{"from_account": "A", "to_account": "B", "amount": a} for a in amounts])
    got = [t.amount for t in store.transfers.list(plan_key=plan.plan_key)]
    assert got == amounts and sum(got) == sum(amounts)


def test_quantize_when_half_cent_then_bankers_rounding():
    assert [MONEY.quantize(v) for v in ("0.125", "0.135", 1.005, 7)] == [
        Decimal("0.12"), Decimal("0.14"), Decimal("1.00"), Decimal("7.00")]


def test_datetime_when_given_in_new_york_then_same_instant_returned_in_utc(store):
    ny = datetime(2026, 12, 1, 17, 0, tzinfo=ZoneInfo("America/New_York"))
    store.audit.record("ops", "rollover", at=ny)
    got = store.audit.list()[0].at
    assert got == ny and got.tzinfo == UTC and got.hour == 22
