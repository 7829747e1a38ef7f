"""MT5Broker over the simulated terminal: the same code path a real MetaTrader5 module takes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.mt5 import MT5Broker, TerminalSession
from multiaccount.brokers.port import BrokerUnavailable, DealEntry, TransferNotSupported
from multiaccount.brokers.simulated import Scenario, SimulatedTerminal
from multiaccount.domain import OrderStatus, OrderType, Side


def test_send_when_market_intent_then_filled_and_visible_as_position(broker, intent):
    out = broker.send(intent(volume=0.5, deviation=2))
    assert out.status is OrderStatus.FILLED and out.retcode == rc.DONE and out.volume == 0.5
    (pos,) = broker.positions()
    assert (pos.ticket, pos.side, pos.comment, pos.magic) == (out.ticket, Side.BUY, out.client_id, broker.magic)
    assert out.latency_ms is not None and out.latency_ms >= 0


def test_send_when_same_client_id_again_then_duplicate_and_no_second_position(broker, intent):
    first = broker.send(intent(signal="sig-dup"))
    second = broker.send(intent(signal="sig-dup"))
    assert second.status is OrderStatus.DUPLICATE and second.ticket == first.ticket
    assert len(broker.positions()) == 1


def test_send_when_position_already_closed_then_deal_history_still_blocks_a_resend(broker, intent):
    first = broker.send(intent(signal="sig-closed"))
    assert broker.close(first.ticket).status is OrderStatus.FILLED
    again = broker.send(intent(signal="sig-closed"))
    assert again.status is OrderStatus.DUPLICATE and broker.positions() == []


def test_send_when_pending_order_exists_for_the_client_id_then_duplicate(broker, intent):
    ask = broker.symbol_info("EURUSD").ask
    limit = intent(signal="sig-limit", order_type=OrderType.LIMIT, price=round(ask - 0.01, 5))
    placed = broker.send(limit)
    assert placed.status is OrderStatus.PLACED and broker.pending_orders()[0].ticket == placed.ticket
    assert broker.send(limit).status is OrderStatus.DUPLICATE
    assert broker.cancel(placed.ticket).status is OrderStatus.FILLED and broker.pending_orders() == []


@pytest.mark.parametrize(("kwargs", "retcode"), [
    ({"volume": -1.0}, rc.INVALID_VOLUME),
    ({"volume": math.nan}, rc.INVALID_VOLUME),
    ({"volume": 0.013}, rc.INVALID_VOLUME),  # caught by the server, not locally
    ({"symbol": "NOPE"}, rc.INVALID),
    ({"order_type": OrderType.LIMIT, "price": math.nan}, rc.INVALID_PRICE),
    ({"sl": math.inf}, rc.INVALID_STOPS),
    ({"sl": 9.0}, rc.INVALID_STOPS),
    ({"client_id": "c" * 32}, rc.INVALID),
])
def test_send_when_request_is_bad_then_rejected_with_retcode_never_raises(broker, intent, kwargs, retcode):
    out = broker.send(intent(**kwargs))
    assert out.status is OrderStatus.REJECTED and out.retcode == retcode
    assert out.reason.startswith(rc.name(retcode) + ":")
    assert broker.positions() == []


def test_send_when_weekend_then_rejected_market_closed(broker, intent, clock):
    clock.set(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))  # Sunday morning
    out = broker.send(intent())
    assert out.status is OrderStatus.REJECTED and out.retcode == rc.MARKET_CLOSED


def test_send_when_no_money_then_rejected_no_money(broker, intent):
    assert broker.send(intent(signal="a", volume=100.0)).status is OrderStatus.FILLED
    out = broker.send(intent(signal="b", volume=100.0))
    assert out.status is OrderStatus.REJECTED and out.retcode == rc.NO_MONEY


def test_send_when_ioc_partial_fill_then_partial_with_booked_volume(make_broker, seed_firm, clock, intent):
    class IocOnly(SimulatedTerminal):
        def symbol_info(self, symbol):
            s = super().symbol_info(symbol)
            return s._replace(filling_mode=2) if s is not None else None

    b = make_broker("SW_001", IocOnly(seed_firm, seed=7, clock=clock))
    out = b.send(intent("SW_001", volume=80.0))
    if out.status is OrderStatus.REJECTED:  # the account may lack margin for 80 lots: then the check is NO_MONEY
        assert out.retcode == rc.NO_MONEY
    else:
        assert out.status is OrderStatus.PARTIAL and out.volume == 50.0
        assert b.positions()[0].volume == 50.0


def test_send_when_requote_storm_then_bounded_retries_end_rejected_requote(seed_firm, clock, make_broker, intent):
    storm = Scenario.model_validate({"name": "s", "events": [{"kind": "requote_storm"}]})
    b = make_broker("EU_HF_001", SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=storm))
    out = b.send(intent())
    assert out.status is OrderStatus.REJECTED and out.retcode == rc.REQUOTE


def test_send_when_answer_lost_after_fill_then_reconciled_as_filled_and_resend_is_duplicate(
        seed_firm, clock, make_broker, intent):
    lost = Scenario.model_validate({"name": "lost", "events": [
        {"kind": "timeout", "executed": True, "end": "2026-12-01T09:01:00Z"}]})
    b = make_broker("EU_HF_001", SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=lost))
    out = b.send(intent(signal="sig-lost"))
    assert out.status is OrderStatus.FILLED and out.reason.startswith("RECONCILED: TIMEOUT")
    clock.advance(120)
    assert b.send(intent(signal="sig-lost")).status is OrderStatus.DUPLICATE
    assert len(b.positions()) == 1


def test_send_when_timeout_without_fill_then_unknown_and_later_send_executes_once(
        seed_firm, clock, make_broker, intent):
    lost = Scenario.model_validate({"name": "lost", "events": [
        {"kind": "timeout", "executed": False, "end": "2026-12-01T09:01:00Z"}]})
    b = make_broker("EU_HF_001", SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=lost))
    out = b.send(intent(signal="sig-nofill"))
    assert out.status is OrderStatus.UNKNOWN and "do not resend blindly" in out.reason
    assert b.positions() == []
    clock.advance(120)
    assert b.send(intent(signal="sig-nofill")).status is OrderStatus.FILLED
    assert b.send(intent(signal="sig-nofill")).status is OrderStatus.DUPLICATE


def test_send_when_trade_server_disconnected_then_unknown_not_an_exception(seed_firm, clock, make_broker, intent):
    cut = Scenario.model_validate({"name": "c", "events": [
        {"kind": "disconnect", "mode": "server", "start": "2026-12-01T09:05:00Z", "end": "2026-12-01T09:10:00Z"}]})
    b = make_broker("EU_HF_001", SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=cut))
    b.connect()
    clock.advance(360)
    out = b.send(intent(signal="sig-cut"))
    assert out.status is OrderStatus.UNKNOWN and "CONNECTION" in out.reason  # 10031: reconcile, never resend blindly
    clock.advance(300)
    assert b.send(intent(signal="sig-cut")).status is OrderStatus.FILLED
    assert len(b.positions()) == 1


def test_calls_when_ipc_disconnected_then_broker_unavailable_and_recover_after(seed_firm, clock, make_broker, intent):
    cut = Scenario.model_validate({"name": "c", "events": [
        {"kind": "disconnect", "start": "2026-12-01T09:05:00Z", "end": "2026-12-01T09:10:00Z"}]})
    b = make_broker("EU_HF_001", SimulatedTerminal(seed_firm, seed=7, clock=clock, scenario=cut))
    b.connect()
    clock.advance(400)
    assert not b.is_connected()
    with pytest.raises(BrokerUnavailable):
        b.account_state()
    with pytest.raises(BrokerUnavailable):
        b.send(intent())  # the idempotency check could not run: nothing was sent, safe to retry
    clock.advance(300)
    assert b.is_connected() and b.account_state().connected
    assert b.send(intent()).status is OrderStatus.FILLED


def test_close_when_partial_twice_then_netting_leaves_remainder_and_deals_show_entries(broker, intent, clock):
    opened = broker.send(intent(volume=1.0))
    clock.advance(300)
    first = broker.close(opened.ticket, 0.25, client_id="close-a")
    assert first.status is OrderStatus.FILLED and first.volume == 0.25
    assert broker.close(opened.ticket, 0.25, client_id="close-a").status is OrderStatus.DUPLICATE
    assert broker.close(opened.ticket, 0.25, client_id="close-b").status is OrderStatus.FILLED
    assert broker.positions()[0].volume == pytest.approx(0.5)
    too_much = broker.close(opened.ticket, 0.75, client_id="close-c")
    assert too_much.status is OrderStatus.REJECTED and too_much.retcode == rc.INVALID_CLOSE_VOLUME
    assert broker.close(opened.ticket, client_id="close-d").volume == pytest.approx(0.5)
    deals = [d for d in broker.deals(clock.now() - timedelta(hours=1)) if d.position_id == opened.ticket]
    assert [d.entry for d in deals] == [DealEntry.IN, DealEntry.OUT, DealEntry.OUT, DealEntry.OUT]
    gone = broker.close(opened.ticket, client_id="close-e")
    assert gone.status is OrderStatus.REJECTED and gone.retcode == rc.POSITION_CLOSED


def test_modify_when_valid_stops_then_filled_and_position_shows_them(broker, intent):
    opened = broker.send(intent())
    bid = broker.symbol_info("EURUSD").bid
    out = broker.modify(opened.ticket, round(bid - 0.004, 5), round(bid + 0.008, 5))
    assert out.status is OrderStatus.FILLED and out.retcode == rc.DONE
    pos = broker.positions()[0]
    assert (pos.sl, pos.tp) == (round(bid - 0.004, 5), round(bid + 0.008, 5))
    assert broker.modify(opened.ticket, bid + 0.01, None).retcode == rc.INVALID_STOPS
    assert broker.modify(opened.ticket, math.nan, None).retcode == rc.INVALID_STOPS


def test_check_when_valid_then_check_ok_and_nothing_executes(broker, intent):
    out = broker.check(intent(volume=2.0))
    assert out.status is OrderStatus.SKIPPED and out.retcode == 0 and out.reason.startswith("CHECK_OK")
    assert broker.positions() == []
    assert broker.check(intent(volume=-2.0)).retcode == rc.INVALID_VOLUME


def test_account_state_and_symbol_info_when_connected_then_typed_values(broker, seed_firm):
    state = broker.account_state()
    assert state.balance == float(seed_firm.accounts["EU_HF_001"].account_info.initial_balance)
    assert state.margin_level is None and state.margin_so_so == 30.0
    info = broker.symbol_info("USDJPY")
    assert (info.digits, info.contract_size, info.currency_profit) == (3, 100000.0, "JPY")
    assert info.tick_value == pytest.approx(100000 * 0.001 / info.bid, rel=1e-3)
    with pytest.raises(KeyError):
        broker.symbol_info("NOPE")


def test_account_state_when_broker_stops_out_in_money_then_thresholds_become_levels_at_current_margin(
        seed_firm, clock, make_broker, intent):
    """margin_so_mode 1 (ACCOUNT_STOPOUT_MODE_MONEY): the broker acts at equity <= so_call / so_so money;
    the risk limits compare margin levels (percent), so the adapter converts at the current margin."""
    class MoneyStopOut:  # a broker whose margin call is at 5,000 and stop-out at 3,000 of equity
        def __init__(self):
            self._t = SimulatedTerminal(seed_firm, seed=7, clock=clock)

        def account_info(self):
            i = self._t.account_info()
            return None if i is None else i._replace(margin_so_mode=1, margin_so_call=5000.0, margin_so_so=3000.0)

        def __getattr__(self, name):
            return getattr(self._t, name)

    b = make_broker(terminal=MoneyStopOut())
    b.connect()
    flat = b.account_state()
    assert (flat.margin_so_call, flat.margin_so_so) == (0.0, 0.0)  # no margin used: nothing to stop out
    assert b.send(intent(volume=1.0)).status is OrderStatus.FILLED
    state = b.account_state()
    assert state.margin > 0
    assert state.margin_so_call == pytest.approx(5000.0 / state.margin * 100.0)
    assert state.margin_so_so == pytest.approx(3000.0 / state.margin * 100.0)


def test_balance_operation_when_simulated_then_done_once_and_deal_is_balance_kind(broker, clock):
    out = broker.balance_operation(Decimal("2500.00"), "rebal-2026-12-01-EU_HF_001")
    assert out.status is OrderStatus.FILLED
    assert broker.balance_operation(Decimal("2500.00"), "rebal-2026-12-01-EU_HF_001").status is \
        OrderStatus.DUPLICATE
    (deal,) = [d for d in broker.deals(clock.now() - timedelta(days=1)) if d.kind == "balance"]
    assert deal.profit == 2500.0 and deal.side is None


def test_balance_operation_when_module_has_no_transfers_then_transfer_not_supported(seed_firm, clock):
    class RealLike:  # the real MetaTrader5 module has no balance operation
        def __init__(self):
            self._t = SimulatedTerminal(seed_firm, seed=7, clock=clock)

        def __getattr__(self, name):
            if name == "balance_operation":
                raise AttributeError(name)
            return getattr(self._t, name)

    b = MT5Broker("EU_HF_001", RealLike(), login=50110001, clock=clock)
    with pytest.raises(TransferNotSupported):
        b.balance_operation(Decimal("1"), "x")


def test_session_when_two_accounts_share_a_terminal_then_logins_switch_only_when_needed(
        seed_firm, clock, make_broker, sim_terminal):
    session = TerminalSession(sim_terminal)
    a = make_broker("EU_HF_001", session=session)
    b = make_broker("EU_HF_002", session=session)
    a.account_state(), a.positions(), b.account_state(), b.positions(), b.positions(), a.account_state()
    assert session.login_switches == 2
    assert a.account_state().balance != b.account_state().balance or a.login != b.login


def test_connect_when_password_wrong_then_broker_unavailable_without_leaking_it(seed_firm, clock, monkeypatch):
    from pydantic import SecretStr
    monkeypatch.setenv("MT5_PASSWORD_EU_HF_001", "right-one")
    b = MT5Broker("EU_HF_001", SimulatedTerminal(seed_firm, seed=7, clock=clock), login=50110001,
                  password=SecretStr("wrong-one"), clock=clock)
    with pytest.raises(BrokerUnavailable) as err:
        b.connect()
    assert "wrong-one" not in str(err.value) and "wrong-one" not in repr(b)
