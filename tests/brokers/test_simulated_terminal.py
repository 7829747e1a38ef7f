"""The simulated terminal through the raw MetaTrader5 API: every retcode path, accounting, time-driven events."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

import multiaccount.brokers.simulated as mt5
from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.simulated import Scenario, SimulatedTerminal

LOGIN = 50110001  # EU_HF_001, initial balance 120 000 USD


def market(symbol="EURUSD", type_=mt5.ORDER_TYPE_BUY, volume=1.0, **kw):
    req = {"action": mt5.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": type_, "deviation": 10,
           "magic": 7, "comment": kw.pop("comment", "t"), "type_filling": mt5.ORDER_FILLING_FOK,
           "type_time": mt5.ORDER_TIME_GTC}
    req.update(kw)
    return req


@pytest.fixture
def term(sim_terminal):
    assert sim_terminal.initialize(login=LOGIN)
    return sim_terminal


def test_order_send_when_market_buy_is_valid_then_done_and_position_opened_with_commission(term):
    r = term.order_send(market(comment="ma-open-1"))
    assert r.retcode == mt5.TRADE_RETCODE_DONE
    tick = term.symbol_info_tick("EURUSD")
    assert tick.ask <= r.price <= tick.ask + 10 * 1e-5  # slippage bounded by deviation
    (p,) = term.positions_get()
    assert (p.ticket, p.volume, p.comment, p.magic, p.type) == (r.order, 1.0, "ma-open-1", 7, 0)
    info = term.account_info()
    assert info.balance == pytest.approx(120000 - 3.5)  # half the 7 USD round-turn commission per lot
    assert info.margin == pytest.approx(1.0 * 100000 * tick.bid / 100, rel=1e-3)


def test_order_send_when_deviation_is_zero_then_fills_at_the_quote(term):
    r = term.order_send(market(deviation=0, type_=mt5.ORDER_TYPE_SELL))
    assert r.retcode == rc.DONE and r.price == term.symbol_info_tick("EURUSD").bid


@pytest.mark.parametrize(("request_", "retcode"), [
    (market(volume=-1.0), rc.INVALID_VOLUME),
    (market(volume=0.0), rc.INVALID_VOLUME),
    (market(volume=0.015), rc.INVALID_VOLUME),  # not a multiple of volume_step
    (market(volume=150.0), rc.INVALID_VOLUME),  # above volume_max
    (market(volume=float("nan")), rc.INVALID_VOLUME),
    (market(symbol="XAUEUR"), rc.INVALID),
    (market(type_=mt5.ORDER_TYPE_BUY_LIMIT), rc.INVALID_ORDER),
    (market(price=float("nan")), rc.INVALID_PRICE),
    (market(price=1.5), rc.REQUOTE),  # requested price far from the market
    (market(sl=5.0), rc.INVALID_STOPS),  # stop above the price of a buy
    (market(tp=0.5), rc.INVALID_STOPS),
    (market(sl=float("nan")), rc.INVALID_STOPS),
    (market(type_filling=mt5.ORDER_FILLING_RETURN), rc.INVALID_FILL),
    (market(volume=100.0), rc.NO_MONEY),  # 100 lots need ~108k margin... plus the second below
    ({"action": 99, "symbol": "EURUSD", "volume": 1.0}, rc.INVALID),
])
def test_order_send_when_request_is_bad_then_answers_its_retcode_and_books_nothing(term, request_, retcode):
    if retcode == rc.NO_MONEY:
        assert term.order_send(market(volume=100.0, comment="first")).retcode == rc.DONE
    before = len(term.positions_get())
    r = term.order_send(request_)
    assert r.retcode == retcode, r.comment
    assert len(term.positions_get()) == before


def test_order_send_when_comment_longer_than_31_then_none_with_invalid_params(term):
    assert term.order_send(market(comment="x" * 32)) is None
    assert term.last_error()[0] == rc.RES_E_INVALID_PARAMS


def test_order_send_when_field_has_wrong_type_then_none_with_invalid_params(term):
    assert term.order_send(market(volume="1.0")) is None
    assert term.last_error() == (rc.RES_E_INVALID_PARAMS, "Invalid 'volume' argument")


def test_order_send_when_weekend_then_market_closed(term, clock):
    clock.set(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))
    assert term.order_send(market()).retcode == rc.MARKET_CLOSED


def test_order_send_when_ioc_above_available_liquidity_then_done_partial_with_filled_volume(term):
    assert term.initialize(login=50110003)  # a second account, untouched
    r = term.order_send(market(volume=60.0, type_filling=mt5.ORDER_FILLING_IOC))
    assert (r.retcode, r.volume) == (rc.DONE_PARTIAL, 50.0)
    assert term.positions_get()[0].volume == 50.0


def test_order_send_when_pending_stop_then_placed_and_activates_when_price_reaches_it(term, clock):
    bid = term.symbol_info_tick("EURUSD").bid
    far = {"action": mt5.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.5, "type": mt5.ORDER_TYPE_SELL_STOP,
           "price": round(bid * 0.97, 5), "comment": "p1", "type_filling": mt5.ORDER_FILLING_RETURN}
    r = term.order_send(far)
    assert r.retcode == rc.PLACED and term.orders_get()[0].ticket == r.order
    assert term.order_send({**far, "price": float("nan")}).retcode == rc.INVALID_PRICE
    assert term.order_send({**far, "price": round(bid * 1.01, 5)}).retcode == rc.INVALID_PRICE  # stop on wrong side
    near = {**far, "type": mt5.ORDER_TYPE_BUY_STOP, "price": round(term.symbol_info_tick("EURUSD").ask + 0.00002, 5),
            "comment": "p2"}
    placed = term.order_send(near)
    assert placed.retcode == rc.PLACED
    for _ in range(24 * 60):  # walk forward until the market crosses it
        clock.advance(60)
        if any(p.comment == "p2" for p in term.positions_get()):
            break
    (pos,) = [p for p in term.positions_get() if p.comment == "p2"]
    assert pos.ticket == placed.order and pos.price_open >= near["price"]  # a stop fills at market, never better
    remove = term.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": r.order})
    assert remove.retcode == rc.DONE and not any(o.ticket == r.order for o in term.orders_get())
    assert term.order_send({"action": mt5.TRADE_ACTION_REMOVE, "order": r.order}).retcode == rc.INVALID


def test_close_when_partial_closes_then_netting_books_each_part_and_keeps_the_rest(term, clock):
    opened = term.order_send(market(volume=1.0, deviation=0))
    clock.advance(600)
    for part in (0.3, 0.3):
        r = term.order_send(market(type_=mt5.ORDER_TYPE_SELL, volume=part, position=opened.order, deviation=0))
        assert r.retcode == rc.DONE and r.volume == part
    (p,) = term.positions_get()
    assert p.volume == pytest.approx(0.4)
    assert term.order_send(market(type_=mt5.ORDER_TYPE_SELL, volume=0.5, position=opened.order)).retcode == \
        rc.INVALID_CLOSE_VOLUME
    assert term.order_send(market(type_=mt5.ORDER_TYPE_BUY, volume=0.4, position=opened.order)).retcode == rc.INVALID
    final = term.order_send(market(type_=mt5.ORDER_TYPE_SELL, volume=0.4, position=opened.order, deviation=0))
    assert final.retcode == rc.DONE and term.positions_get() == ()
    deals = term.history_deals_get(position=opened.order)
    assert [d.entry for d in deals] == [0, 1, 1, 1]
    assert sum(d.volume for d in deals if d.entry == 1) == pytest.approx(1.0)
    expected = 120000 + sum(d.profit + d.commission + d.swap for d in deals)
    assert term.account_info().balance == pytest.approx(expected, abs=0.011)
    again = term.order_send(market(type_=mt5.ORDER_TYPE_SELL, volume=0.1, position=opened.order))
    assert again.retcode == rc.POSITION_CLOSED


def test_order_send_sltp_when_changed_then_done_and_unchanged_then_no_changes(term):
    opened = term.order_send(market())
    bid = term.symbol_info_tick("EURUSD").bid
    sltp = {"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": opened.order,
            "sl": round(bid - 0.005, 5), "tp": round(bid + 0.01, 5)}
    assert term.order_send(sltp).retcode == rc.DONE
    assert term.positions_get()[0].sl == sltp["sl"]
    assert term.order_send(sltp).retcode == rc.NO_CHANGES
    assert term.order_send({**sltp, "sl": bid + 0.001}).retcode == rc.INVALID_STOPS


def test_time_when_price_crosses_the_stop_then_position_closes_with_sl_reason(term, clock):
    opened = term.order_send(market(deviation=0))
    bid = term.symbol_info_tick("EURUSD").bid
    term.order_send({"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": opened.order,
                     "sl": round(bid - 0.0003, 5), "tp": round(bid + 0.0003, 5)})
    for _ in range(48):
        clock.advance(timedelta(minutes=30))
        if not term.positions_get():
            break
    assert term.positions_get() == ()
    out = [d for d in term.history_deals_get(position=opened.order) if d.entry == mt5.DEAL_ENTRY_OUT]
    assert len(out) == 1 and out[0].reason in (mt5.DEAL_REASON_SL, mt5.DEAL_REASON_TP)
    assert out[0].comment.startswith("[sl" if out[0].reason == mt5.DEAL_REASON_SL else "[tp")


def test_time_when_crossing_rollovers_then_swap_accrues_triple_on_wednesday(term, clock):
    clock.set(datetime(2026, 12, 1, 21, 0, tzinfo=UTC))  # Tuesday 16:00 New York
    term.order_send(market(volume=1.0))  # long EURUSD: swap_long -6.5 points per lot per night
    clock.set(datetime(2026, 12, 1, 22, 30, tzinfo=UTC))  # after Tuesday's rollover
    one_night = -6.5 * 1e-5 * 100000
    assert term.positions_get()[0].swap == pytest.approx(one_night)
    clock.set(datetime(2026, 12, 2, 22, 30, tzinfo=UTC))  # after Wednesday's (triple) rollover
    assert term.positions_get()[0].swap == pytest.approx(4 * one_night)


def test_time_when_five_sigma_jump_hits_a_leveraged_account_then_stop_out_closes_positions(seed_firm, clock):
    jump = Scenario.model_validate({"name": "shock", "events": [
        {"kind": "price_jump", "symbol": "EURUSD", "at": "2026-12-01T09:30:00Z", "sigmas": -5}]})
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=jump)
    assert term.initialize(login=LOGIN)
    for i in range(10):
        r = term.order_send(market(volume=10.0, comment=f"big{i}"))
        assert r.retcode == rc.DONE, r
    assert term.account_info().margin_level > 100
    clock.advance(timedelta(minutes=45))
    info = term.account_info()
    assert term.positions_get() == () or info.margin_level >= info.margin_so_so
    so = [d for d in term.history_deals_get(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
          if d.reason == mt5.DEAL_REASON_SO]
    assert so and all(d.comment.startswith("[so ") for d in so)


def test_state_when_another_terminal_opens_the_same_account_then_it_sees_the_same_book(term, seed_firm, clock):
    r = term.order_send(market(comment="shared"))
    other = SimulatedTerminal(seed_firm, seed=7, clock=clock)
    assert other.initialize(login=LOGIN)
    assert [p.ticket for p in other.positions_get()] == [r.order]
    assert other.account_info().balance == term.account_info().balance
    mt5.reset()
    fresh = SimulatedTerminal(seed_firm, seed=7, clock=clock)
    assert fresh.initialize(login=LOGIN) and fresh.positions_get() == ()


def test_scenario_when_server_disconnect_then_reads_work_and_orders_answer_no_connection(seed_firm, clock):
    cut = Scenario.model_validate({"name": "cut", "events": [
        {"kind": "disconnect", "mode": "server", "start": "2026-12-01T09:05:00Z", "end": "2026-12-01T09:10:00Z"}]})
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=cut)
    assert term.initialize(login=LOGIN)
    clock.advance(360)
    assert term.account_info() is not None
    assert term.order_send(market()).retcode == rc.CONNECTION


def test_scenario_when_ipc_disconnect_then_calls_return_none_until_the_window_ends(seed_firm, clock):
    cut = Scenario.model_validate({"name": "cut", "events": [
        {"kind": "disconnect", "accounts": ["EU_HF_001"], "start": "2026-12-01T09:05:00Z",
         "end": "2026-12-01T09:10:00Z"}]})
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=cut)
    assert term.initialize(login=LOGIN)
    clock.advance(360)
    assert term.account_info() is None and term.last_error()[0] in rc.IPC_ERRORS
    assert term.order_send(market()) is None
    assert not term.login(LOGIN)
    assert term.login(50110002)  # another account on the same terminal is not cut
    clock.advance(300)
    assert term.login(LOGIN) and term.account_info().login == LOGIN


def test_scenario_when_requote_storm_then_market_orders_are_requoted(seed_firm, clock):
    storm = Scenario.model_validate({"name": "storm", "events": [{"kind": "requote_storm", "probability": 1.0}]})
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=storm)
    assert term.initialize(login=LOGIN)
    r = term.order_send(market())
    assert r.retcode == rc.REQUOTE and r.bid > 0 and r.ask > r.bid


def test_scenario_when_timeout_after_fill_then_answer_is_10012_but_the_position_exists(seed_firm, clock):
    lost = Scenario.model_validate({"name": "lost", "events": [{"kind": "timeout", "executed": True}]})
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=lost)
    assert term.initialize(login=LOGIN)
    assert term.order_send(market(comment="lost-1")).retcode == rc.TIMEOUT
    assert [p.comment for p in term.positions_get()] == ["lost-1"]


def test_initialize_when_password_is_wrong_then_auth_failed(seed_firm, clock, monkeypatch):
    monkeypatch.setenv("MT5_PASSWORD_EU_HF_001", "right")
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock)
    assert not term.initialize(login=LOGIN, password="wrong")
    assert term.last_error()[0] == rc.RES_E_AUTH_FAILED
    assert term.initialize(login=LOGIN, password="right")


def test_calls_when_not_initialized_then_none_with_no_ipc_connection(seed_firm, clock):
    term = SimulatedTerminal(seed_firm, seed=7, clock=clock)
    assert term.account_info() is None and term.last_error()[0] == rc.RES_E_INTERNAL_FAIL_CONNECT


def test_order_check_when_valid_then_retcode_zero_with_margin_and_when_too_big_then_no_money(term):
    ok = term.order_check(market(volume=1.0))
    assert ok.retcode == 0 and ok.margin > 0 and ok.margin_free == pytest.approx(ok.equity - ok.margin)
    assert term.order_check(market(volume=100.0)).retcode in (0, rc.NO_MONEY)
    assert term.order_check(market(volume=100.0)).margin > term.order_check(market(volume=1.0)).margin
    assert term.positions_get() == ()
    assert term.order_check(market(volume=-1.0)).retcode == rc.INVALID_VOLUME


def test_balance_operation_when_deposit_and_excess_withdrawal_then_done_and_no_money(term):
    assert term.balance_operation(5000.0, "dep").retcode == rc.DONE
    assert term.account_info().balance == pytest.approx(125000)
    assert term.balance_operation(-1e9, "too much").retcode == rc.NO_MONEY
    assert term.balance_operation(math.nan, "nan").retcode == rc.INVALID
    (d,) = [d for d in term.history_deals_get(0, 2**40) if d.type == mt5.DEAL_TYPE_BALANCE]
    assert d.profit == 5000.0 and d.comment == "dep"


def test_module_when_used_like_metatrader5_then_functions_and_constants_exist():
    for fn in ("initialize", "login", "shutdown", "account_info", "positions_get", "orders_get", "symbol_info",
               "symbol_info_tick", "order_check", "order_send", "history_deals_get", "last_error"):
        assert callable(getattr(mt5, fn))
    assert (mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_PENDING, mt5.TRADE_ACTION_SLTP, mt5.TRADE_ACTION_REMOVE) == \
        (1, 5, 6, 8)
    assert mt5.TRADE_RETCODE_DONE == 10009 and mt5.TRADE_RETCODE_MARKET_CLOSED == 10018
