"""MT5Broker over a real rpyc socket on loopback, against the simulated module served as MetaTrader5."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from decimal import Decimal

import pytest

import multiaccount.brokers.simulated as sim
from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.bridge import RpycMT5, serve
from multiaccount.brokers.mt5 import MT5Broker
from multiaccount.brokers.port import BrokerUnavailable
from multiaccount.domain import OrderStatus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bridge(seed_firm):
    sim.configure(firm=seed_firm, seed=7)
    server = serve(port=0, host="127.0.0.1", module="multiaccount.brokers.simulated", background=True)
    yield server
    server.close()
    sim.shutdown()


def _broker(port, clock, simulated=True) -> tuple[MT5Broker, RpycMT5]:
    client = RpycMT5("127.0.0.1", port, timeout=10, clock=clock, simulated=simulated)
    return MT5Broker("EU_HF_001", client, login=50110001, server="ICMarketsSC-Live", clock=clock), client


def test_send_when_over_rpyc_then_same_outcomes_as_in_process(bridge, clock, intent):
    b, client = _broker(bridge.port, clock)
    b.connect()
    out = b.send(intent(signal="rpyc-1"))
    assert out.status is OrderStatus.FILLED and out.retcode == rc.DONE
    assert b.send(intent(signal="rpyc-1")).status is OrderStatus.DUPLICATE
    (pos,) = b.positions()
    assert pos.ticket == out.ticket and type(pos.ticket) is int
    nan = b.send(intent(signal="rpyc-2", volume=float("nan")))
    assert nan.status is OrderStatus.REJECTED and nan.retcode == rc.INVALID_VOLUME
    raw = client.order_send({"action": 1, "symbol": "EURUSD", "volume": 1.0, "type": 0, "price": float("nan")})
    assert raw.retcode == rc.INVALID_PRICE and raw.request.symbol == "EURUSD"
    assert b.balance_operation(Decimal("10"), "rpyc-dep").status is OrderStatus.FILLED
    assert b.close(out.ticket, client_id="rpyc-close").status is OrderStatus.FILLED
    client.close()


def test_calls_when_server_time_follows_the_client_clock_then_weekend_is_closed(bridge, clock, intent):
    from datetime import UTC, datetime
    b, client = _broker(bridge.port, clock)
    clock.set(datetime(2026, 12, 5, 12, tzinfo=UTC))
    assert b.send(intent(signal="rpyc-weekend")).retcode == rc.MARKET_CLOSED
    client.close()


def test_calls_when_server_goes_away_then_broker_unavailable_and_last_error_is_ipc(clock, seed_firm, tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "multiaccount.brokers.bridge", "--port", str(port), "--seed", "7",
                             "--module", "multiaccount.brokers.simulated"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        b, client = _broker(port, clock)
        deadline = time.monotonic() + 30
        while True:
            try:
                b.connect()
                break
            except BrokerUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert b.account_state().balance == 120000.0
        proc.kill()
        proc.wait(10)
        with pytest.raises(BrokerUnavailable):
            b.account_state()
        assert client.last_error()[0] in rc.IPC_ERRORS
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_client_when_not_simulated_then_no_balance_operation(clock):
    assert not hasattr(RpycMT5(clock=clock, simulated=False), "balance_operation")
