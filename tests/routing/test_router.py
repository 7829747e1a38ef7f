from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multiaccount.domain import OrderStatus, Scope, Side, TradingSignal, TradingState, client_order_id
from multiaccount.routing import SignalRouter, eligible_accounts, parse_signal
from tests.fixtures.risk import FakePool, baseline_at_initial, seed_states
from tests.routing.fakes import CountingStateRepository, RoutingPool

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def signal(**kw) -> TradingSignal:
    base = dict(id="sig-1", symbol="EURUSD", side=Side.BUY, stop=1.0800, strategy="ict_patterns", created=NOW)
    return TradingSignal(**{**base, **kw})


@pytest.fixture
def router(seed_firm, fake_pool, order_ledger, state_service, clock):
    return SignalRouter(seed_firm, fake_pool, order_ledger, state_service, clock,
                        baseline=lambda: baseline_at_initial(seed_firm))


def test_route_when_eurusd_signal_then_specialists_filled_and_others_skipped_with_reasons(router):
    report = router.route(signal())
    by = report.by_account()
    assert by["EU_HF_001"].status is OrderStatus.FILLED
    assert by["EU_HF_002"].reason.startswith("NOT_SPECIALIZED")
    assert by["EU_HF_005"].reason.startswith("STANDBY")
    assert by["RD_002"].reason.startswith("LIVE_TRADING_DISABLED")  # runs ict_patterns, no simulated terminal
    assert by["SW_001"].status is OrderStatus.FILLED  # london_session open, runs ict_patterns
    assert by["SW_002"].reason.startswith("NO_STRATEGY_WEIGHT")


def test_route_when_filled_then_factors_latency_tp_and_slippage_reported(router, fake_pool):
    r = router.route(signal()).by_account()["EU_HF_001"]
    assert r.volume == r.requested_volume > 0
    assert set(r.latency_ms) == {"received_to_sized", "sized_to_sent", "sent_to_acknowledged", "total"}
    assert r.factors["strategy_weight"] == 0.7
    (intent,) = [i for i in fake_pool.sent if i.account_id == "EU_HF_001"]
    assert intent.tp == pytest.approx(intent.price + 2.0 * (intent.price - 1.0800), abs=1e-5)
    assert intent.deviation == 2 and intent.client_id == client_order_id("sig-1", "EU_HF_001")
    assert r.slippage_points == 0.0


def test_route_when_signal_replayed_then_nothing_new_is_opened(router, fake_pool):
    router.route(signal())
    sent = len(fake_pool.sent)
    again = router.route(signal())
    assert sent >= 1 and len(fake_pool.sent) == sent
    assert again.by_account()["EU_HF_001"].status is OrderStatus.DUPLICATE


def test_route_when_specialist_halted_then_fails_over_to_backup(router, state_service, fake_pool):
    state_service.escalate(Scope.account("EU_HF_001"), TradingState.HALTED, "MAX_DRAWDOWN: test")
    by = router.route(signal()).by_account()
    assert by["EU_HF_001"].reason.startswith("STATE_HALTED")
    assert by["EU_HF_005"].status is OrderStatus.FILLED and by["EU_HF_005"].failover_for == ("EU_HF_001",)


def test_route_when_specialist_disconnected_then_fails_over_to_backup(seed_firm, risk_quotes, order_ledger,
                                                                     state_service, clock):
    pool = FakePool(seed_firm, seed_states(seed_firm, EU_HF_002={"connected": False}), risk_quotes)
    router = SignalRouter(seed_firm, pool, order_ledger, state_service, clock)
    by = router.route(signal(symbol="GBPUSD", stop=1.2600)).by_account()
    assert by["EU_HF_002"].reason.startswith("DISCONNECTED")
    assert by["EU_HF_005"].status is OrderStatus.FILLED


def test_route_when_cross_then_crosses_specialist_and_research_on_simulated_terminal(seed_firm, risk_quotes,
                                                                                    order_ledger, state_service,
                                                                                    clock):
    clock.set(datetime(2026, 12, 1, 9, 30, tzinfo=UTC))  # London session open for research
    pool = FakePool(seed_firm, seed_states(seed_firm), risk_quotes, simulated={"RD_001", "RD_002"})
    router = SignalRouter(seed_firm, pool, order_ledger, state_service, clock)
    by = router.route(signal(symbol="EURGBP", stop=0.8500, strategy="ict_patterns",
                             created=clock.now())).by_account()
    assert by["EU_HF_004"].status is OrderStatus.FILLED
    assert by["RD_002"].status is OrderStatus.FILLED  # runs ict_patterns; simulated terminal
    assert by["RD_001"].reason.startswith("NO_STRATEGY_WEIGHT")


def test_route_when_account_reducing_then_size_halved(router, state_service, seed_firm):
    full = router.route(signal(id="a")).by_account()["EU_HF_001"].volume
    state_service.escalate(Scope.account("EU_HF_001"), TradingState.REDUCING, "MAX_DAILY_LOSS warning")
    half = router.route(signal(id="b")).by_account()["EU_HF_001"]
    assert half.factors["state"] == 0.5 and half.volume <= full / 2 + 0.01


@pytest.mark.parametrize(("kw", "code"), [
    ({"symbol": "XAUUSD"}, "UNKNOWN_SYMBOL"),
    ({"stop": 1.0900}, "INVALID_STOP"),
    ({"created": NOW - timedelta(hours=1), "expires": NOW - timedelta(minutes=1)}, "SIGNAL_EXPIRED"),
])
def test_route_when_bad_signal_then_rejected_with_clear_reason_and_nothing_sent(router, fake_pool, kw, code):
    report = router.route(signal(**kw))
    assert report.reason.startswith(code) and report.results == [] and fake_pool.sent == []


def test_parse_signal_when_nan_stop_then_invalid_signal_names_field():
    sig, reason = parse_signal({"id": "x", "symbol": "EURUSD", "side": "buy", "stop": float("nan"),
                                "strategy": "s", "created": NOW.isoformat()})
    assert sig is None and reason.startswith("INVALID_SIGNAL: field=stop")


def test_route_when_order_check_option_rejects_then_rejected_with_margin_check_and_not_sent(
        seed_firm, fake_pool, order_ledger, state_service, clock):
    fake_pool.check_rejects.add("EU_HF_001")
    router = SignalRouter(seed_firm, fake_pool, order_ledger, state_service, clock, order_check=True)
    by = router.route(signal()).by_account()
    r = by["EU_HF_001"]
    assert r.status is OrderStatus.REJECTED and r.reason.startswith("MARGIN_CHECK: account=EU_HF_001, retcode=10019")
    assert r.requested_volume > 0 and by["SW_001"].status is OrderStatus.FILLED
    assert [i.account_id for i in fake_pool.sent] == ["SW_001"]
    assert order_ledger.get(r.client_id) is None  # refused before sending: not reserved, a resend re-evaluates


def test_route_when_order_check_option_then_checks_run_concurrently_not_in_sequence(
        seed_firm, risk_quotes, order_ledger, state_service, clock):
    # both accepted accounts must be inside order_check at once for the barrier to open
    pool = RoutingPool(seed_firm, seed_states(seed_firm), risk_quotes, check_barrier=threading.Barrier(2, timeout=5))
    router = SignalRouter(seed_firm, pool, order_ledger, state_service, clock, order_check=True)
    by = router.route(signal()).by_account()
    assert sorted(pool.checks) == ["EU_HF_001", "SW_001"]
    assert by["EU_HF_001"].status is OrderStatus.FILLED, by["EU_HF_001"].reason
    assert by["SW_001"].status is OrderStatus.FILLED, by["SW_001"].reason


def test_route_when_reads_then_states_and_positions_read_concurrently(seed_firm, risk_quotes, order_ledger,
                                                                     state_service, clock):
    pool = RoutingPool(seed_firm, seed_states(seed_firm), risk_quotes, read_barrier=threading.Barrier(2, timeout=5))
    report = SignalRouter(seed_firm, pool, order_ledger, state_service, clock).route(signal())
    assert report.by_account()["EU_HF_001"].status is OrderStatus.FILLED


def test_route_when_broker_refuses_at_send_then_rejected_with_retcode_and_no_order_check_calls(
        seed_firm, risk_quotes, order_ledger, state_service, clock):
    pool = RoutingPool(seed_firm, seed_states(seed_firm), risk_quotes, send_rejects={"EU_HF_001"})
    by = SignalRouter(seed_firm, pool, order_ledger, state_service, clock).route(signal()).by_account()
    assert by["EU_HF_001"].status is OrderStatus.REJECTED and by["EU_HF_001"].reason.startswith("NO_MONEY")
    assert by["SW_001"].status is OrderStatus.FILLED
    assert pool.checks == []  # the margin check happened at order_send, not one order_check per account
    assert order_ledger.get(by["EU_HF_001"].client_id).status is OrderStatus.REJECTED


def test_route_when_send_many_raises_then_unknown_recorded_and_replay_sends_nothing(
        seed_firm, risk_quotes, order_ledger, state_service, clock):
    pool = RoutingPool(seed_firm, seed_states(seed_firm), risk_quotes, send_error=ConnectionResetError("pipe"))
    router = SignalRouter(seed_firm, pool, order_ledger, state_service, clock)
    by = router.route(signal()).by_account()
    assert by["EU_HF_001"].status is OrderStatus.UNKNOWN and by["EU_HF_001"].reason.startswith("UNKNOWN_OUTCOME")
    assert order_ledger.get(by["EU_HF_001"].client_id).status is OrderStatus.UNKNOWN
    sent = len(pool.sent)
    pool.send_error = None
    again = router.route(signal()).by_account()
    assert again["EU_HF_001"].status is OrderStatus.DUPLICATE and len(pool.sent) == sent


def test_route_when_many_accounts_then_one_fan_out_with_latency_split_per_order(
        seed_firm, risk_quotes, order_ledger, state_service, clock):
    calls: list[int] = []
    pool = RoutingPool(seed_firm, seed_states(seed_firm), risk_quotes)
    inner = pool.send_many
    pool.send_many = lambda intents: (calls.append(len(intents)), inner(intents))[1]
    report = SignalRouter(seed_firm, pool, order_ledger, state_service, clock).route(signal())
    filled = report.of_status(OrderStatus.FILLED)
    assert len(filled) >= 2 and calls == [len(filled)]
    for r in filled:
        lat = r.latency_ms
        assert lat["total"] >= lat["received_to_sized"] >= 0 and lat["sized_to_sent"] >= 0


def test_route_when_fill_slips_then_adverse_slippage_in_points(seed_firm, risk_quotes, order_ledger, state_service,
                                                              clock):
    pool = FakePool(seed_firm, seed_states(seed_firm), risk_quotes, slippage_points=1.5)
    router = SignalRouter(seed_firm, pool, order_ledger, state_service, clock)
    r = router.route(signal(entry=risk_quotes["EURUSD"][1])).by_account()["EU_HF_001"]
    assert r.slippage_points == pytest.approx(1.5)


def test_eligible_accounts_when_backup_also_halted_then_failover_unavailable(seed_firm):
    states = {"EU_HF_001": TradingState.HALTED, "EU_HF_005": TradingState.HALTED}
    e = eligible_accounts(seed_firm, signal(), NOW, states, {a: True for a in seed_firm.accounts})
    assert [t.account_id for t in e.targets] == ["SW_001"]
    assert e.skipped["EU_HF_005"].startswith("FAILOVER_UNAVAILABLE: backup=EU_HF_005 for EU_HF_001")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8))
def test_route_when_signals_replayed_in_any_order_then_each_account_gets_one_order_per_signal(
        seed_firm, risk_quotes, clock, ids):
    from multiaccount.domain.ports import InMemoryOrderLedger, InMemoryTradingStateRepository, RecordingEventSink
    from multiaccount.risk import TradingStateService
    pool = FakePool(seed_firm, seed_states(seed_firm), risk_quotes)
    states = TradingStateService(InMemoryTradingStateRepository(), RecordingEventSink(), clock, seed_firm.group_of)
    router = SignalRouter(seed_firm, pool, InMemoryOrderLedger(), states, clock)
    for i in ids:
        router.route(signal(id=i))
    keys = [(it.signal_id, it.account_id) for it in pool.sent]
    assert len(keys) == len(set(keys))
    assert {s for s, _ in keys} <= set(ids)


def test_route_when_group_halted_then_its_accounts_skipped_from_one_read_of_the_states(
        seed_firm, fake_pool, order_ledger, clock):
    from multiaccount.domain.ports import InMemoryTradingStateRepository, RecordingEventSink
    from multiaccount.risk import TradingStateService
    repo = CountingStateRepository(InMemoryTradingStateRepository())
    states = TradingStateService(repo, RecordingEventSink(), clock, seed_firm.group_of)
    states.escalate(Scope.group(seed_firm.group_of("EU_HF_001")), TradingState.HALTED, "MAX_GROUP_RISK: test")
    repo.gets = repo.alls = 0
    by = SignalRouter(seed_firm, fake_pool, order_ledger, states, clock).route(signal()).by_account()
    assert by["EU_HF_001"].reason.startswith("STATE_HALTED")
    assert by["SW_001"].status is OrderStatus.FILLED
    assert (repo.alls, repo.gets) == (1, 0)


def test_route_when_firm_reducing_then_every_order_half_size(router, state_service):
    full = {r.account_id: r.volume for r in router.route(signal(id="a")).of_status(OrderStatus.FILLED)}
    state_service.escalate(Scope.firm(), TradingState.REDUCING, "MAX_DAILY_LOSS warning")
    half = router.route(signal(id="b")).of_status(OrderStatus.FILLED)
    assert {r.account_id for r in half} == set(full) and half
    assert all(r.factors["state"] == 0.5 and r.volume <= full[r.account_id] / 2 + 0.01 for r in half)


def test_route_when_replayed_account_now_fails_a_check_then_still_reported_duplicate(
        seed_firm, fake_pool, order_ledger, state_service, clock):
    today: dict[str, int] = {}
    router = SignalRouter(seed_firm, fake_pool, order_ledger, state_service, clock, trades_today=lambda: today)
    router.route(signal())
    sent = len(fake_pool.sent)
    today["EU_HF_001"] = 10_000  # the re-evaluation now meets MAX_DAILY_TRADES
    again = router.route(signal()).by_account()["EU_HF_001"]
    assert again.status is OrderStatus.DUPLICATE and again.reason.startswith("DUPLICATE")
    assert len(fake_pool.sent) == sent
