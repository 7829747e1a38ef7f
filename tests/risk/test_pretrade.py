from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multiaccount.domain import Side, TradingSignal, TradingState
from multiaccount.risk import build_snapshot
from multiaccount.risk.limits import build_limits
from multiaccount.risk.pretrade import PreTradeChecker, PreTradeContext, Proposal, check_signal
from tests.fixtures.risk import baseline_at_initial, make_position, seed_states

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 09:00 London: killzone + HF active hours


def ctx_for(firm, market, positions=(), equity=None, margin=None, states=None, now=NOW, **kw):
    snap = build_snapshot(firm, seed_states(firm, equity=equity, margin=margin), list(positions), market,
                          baseline=baseline_at_initial(firm), now=now)
    return PreTradeContext(snap, now, states or {}, **kw)


def buy(account="EU_HF_001", symbol="EURUSD", volume=1.0, price=1.08504, stop=1.0800, **kw):
    return Proposal(account, symbol, Side.BUY, volume, price, stop, **kw)


def test_check_when_everything_fine_then_accepted(seed_firm, risk_market):
    assert PreTradeChecker(seed_firm).check(buy(), ctx_for(seed_firm, risk_market)) is None


@pytest.mark.parametrize(("kw", "code"), [
    ({"states": {"EU_HF_001": TradingState.HALTED}}, "STATE_HALTED"),
    ({"now": datetime(2026, 12, 5, 12, tzinfo=UTC)}, "MARKET_CLOSED"),
    ({"now": datetime(2026, 12, 1, 11, 0, tzinfo=UTC)}, "OUTSIDE_SESSION"),
    ({"now": datetime(2026, 12, 1, 7, 30, tzinfo=UTC)}, "OUTSIDE_ACTIVE_HOURS"),
    ({"trades_today": {"EU_HF_001": 20}}, "MAX_DAILY_TRADES"),
    ({"margin": {"EU_HF_001": 35_000.0}}, "MARGIN_USE"),
    ({"equity": {"EU_HF_001": 100_000.0}}, "MAX_DAILY_LOSS"),
])
def test_check_when_condition_then_coded_reason(seed_firm, risk_market, kw, code):
    reason = PreTradeChecker(seed_firm).check(buy(), ctx_for(seed_firm, risk_market, **kw))
    assert reason is not None and reason.startswith(code + ":"), reason


def test_check_when_news_window_then_rejected_unless_account_filter_off(seed_firm, risk_market):
    at = datetime(2026, 12, 4, 13, 25, tzinfo=UTC)  # NFP 13:30Z; NY killzone open (08:25 New York)
    checker = PreTradeChecker(seed_firm)
    reason = checker.check(buy(), ctx_for(seed_firm, risk_market, now=at))
    assert reason.startswith("NEWS_WINDOW: symbol=EURUSD, event=Non-Farm Payrolls")
    assert checker.check(buy("RD_001", volume=0.5), ctx_for(seed_firm, risk_market, now=at)) is None


def test_check_when_group_risk_after_trade_exceeds_then_max_group_risk_with_numbers(seed_firm, risk_market):
    # research: 100k equity, cap 2 %; existing 1.2k risk; a 1.0k trade would make 2.2 %
    existing = make_position("RD_002", "USDJPY", Side.BUY, 1.0, 151.5, None)
    ctx = ctx_for(seed_firm, risk_market, positions=[existing])
    reason = PreTradeChecker(seed_firm).check(buy("RD_001", volume=1.0, stop=1.0750), ctx)
    assert reason.startswith("MAX_GROUP_RISK: group=research, after=0.0")
    assert reason.endswith("limit=0.020")


def test_accept_when_fan_out_then_pending_risk_counts_for_the_next_account(seed_firm, risk_market):
    checker = PreTradeChecker(seed_firm)
    ctx = ctx_for(seed_firm, risk_market)
    p = buy("RD_001", volume=1.0, stop=1.0750)  # ~1.0k: 1.0 % of the research group (cap 2 %)
    assert checker.check(buy("RD_002", volume=1.0, stop=1.0750), ctx) is None  # alone it fits
    assert checker.accept(p, ctx) is None
    assert checker.accept(buy("RD_002", volume=1.0, stop=1.0750), ctx).startswith("MAX_GROUP_RISK")


def test_check_when_slippage_beyond_max_then_rejected(seed_firm, risk_market):
    assert PreTradeChecker(seed_firm).check(buy(signal_price=1.08503), ctx_for(seed_firm, risk_market)) is None
    reason = PreTradeChecker(seed_firm).check(buy(signal_price=1.08501), ctx_for(seed_firm, risk_market))
    assert reason == "SLIPPAGE: account=EU_HF_001, symbol=EURUSD, points=3.0, limit=2"


def test_check_when_order_check_rejects_then_margin_check_reason(seed_firm, risk_market):
    from types import SimpleNamespace
    ctx = ctx_for(seed_firm, risk_market, order_check=lambda p: SimpleNamespace(retcode=10019, comment="No money"))
    assert PreTradeChecker(seed_firm).check(buy(), ctx) == "MARGIN_CHECK: account=EU_HF_001, retcode=10019, " \
                                                          "comment=No money"


def test_check_when_correlated_with_group_exposure_then_correlation_reason(seed_firm, risk_market):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    rets = pd.DataFrame({"EURUSD": x, "GBPUSD": 0.95 * x + 0.31 * rng.normal(size=300)})
    snap = build_snapshot(seed_firm, seed_states(seed_firm), [make_position("EU_HF_001", "EURUSD", Side.BUY, 1.0,
                                                                            1.085, 1.080)], risk_market,
                          symbol_returns=rets, now=NOW)
    reason = PreTradeChecker(seed_firm).check(buy("EU_HF_002", "GBPUSD", price=1.27005, stop=1.2650),
                                              PreTradeContext(snap, NOW, {}))
    assert reason.startswith("CORRELATION: group=high_frequency, symbol=GBPUSD, corr=0.9")
    # the opposite direction hedges and passes the correlation check
    sell = Proposal("EU_HF_002", "GBPUSD", Side.SELL, 1.0, 1.26995, 1.2750)
    assert PreTradeChecker(seed_firm).check(sell, PreTradeContext(snap, NOW, {})) is None


@pytest.mark.parametrize(("change", "code"), [
    ({"expires": NOW - timedelta(seconds=1), "created": NOW - timedelta(minutes=5)}, "SIGNAL_EXPIRED"),
    ({"symbol": "XAUUSD"}, "UNKNOWN_SYMBOL"),
    ({"stop": 1.0900}, "INVALID_STOP"),
])
def test_check_signal_when_bad_then_clear_reason(seed_firm, risk_market, change, code):
    base = dict(id="s1", symbol="EURUSD", side="buy", stop=1.08, strategy="ict_patterns", created=NOW)
    sig = TradingSignal(**{**base, **change})
    assert check_signal(sig, seed_firm, risk_market, NOW).startswith(code)


SYMS = ["EURUSD", "GBPUSD", "USDJPY", "EURGBP", "AUDUSD"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_accepted_trade_never_leaves_a_risk_limit_breached(seed_firm, risk_market, data):
    """Property: after any accepted trade the risk/exposure limits it could move stay within limit."""
    accounts = ["EU_HF_001", "EU_HF_005", "SW_001", "SW_002", "RD_001"]
    existing = []
    for _ in range(data.draw(st.integers(0, 6))):
        sym = data.draw(st.sampled_from(SYMS))
        mid = risk_market.mid(sym)
        side = data.draw(st.sampled_from([Side.BUY, Side.SELL]))
        existing.append(make_position(data.draw(st.sampled_from(accounts)), sym, side,
                                      data.draw(st.sampled_from([0.5, 1.0, 3.0])), mid,
                                      mid - side.sign * mid * data.draw(st.floats(0.002, 0.02))))
    sym = data.draw(st.sampled_from(["EURUSD", "GBPUSD", "USDJPY"]))
    side = data.draw(st.sampled_from([Side.BUY, Side.SELL]))
    bid, ask = risk_market.bid_ask(sym)
    price = ask if side is Side.BUY else bid
    stop = price - side.sign * price * data.draw(st.floats(0.001, 0.02))
    account = data.draw(st.sampled_from(["EU_HF_005", "SW_001", "RD_001"]))
    p = Proposal(account, sym, side, data.draw(st.sampled_from([0.1, 1.0, 5.0, 10.0])), price, stop)
    ctx = ctx_for(seed_firm, risk_market, positions=existing)
    before = {(v.limit, str(v.scope), v.detail.get("subject")) for v in _critical(seed_firm, ctx.snapshot)}
    if PreTradeChecker(seed_firm).check(p, ctx) is not None:
        return
    after_pos = existing + [make_position(account, sym, side, p.volume, price, stop)]
    after = build_snapshot(seed_firm, seed_states(seed_firm), after_pos, risk_market,
                           baseline=baseline_at_initial(seed_firm), now=NOW)
    new = [v for v in _critical(seed_firm, after) if (v.limit, str(v.scope), v.detail.get("subject")) not in before]
    assert new == []


def _critical(firm, snap):
    names = ["max_account_risk", "max_group_risk", "max_total_risk", "currency_exposure_caps",
             "symbol_correlation_caps"]
    return [v for lim in build_limits(firm, names) for v in lim.evaluate(snap) if v.severity.value == "critical"]
