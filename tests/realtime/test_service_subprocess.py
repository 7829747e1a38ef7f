"""`multiaccount serve` as a real process on loopback against simulated terminals: auth over HTTP,
a heartbeat in the store, and a scripted EURUSD shock that the 1 Hz monitor answers with an
emergency stop on its own (no Airflow involved)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from multiaccount.domain import SystemClock

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("realtime_service")]

TOKEN = "subprocess-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last})")


@pytest.fixture
def service(tmp_path, seed_firm):
    from multiaccount.brokers.simulated import Scenario
    from tests.fixtures.realtime import open_positions, sim_brokers

    shock_at = datetime.now(UTC) + timedelta(seconds=12)
    scenario = {"name": "subprocess_shock", "events": [
        {"kind": "price_jump", "symbol": "EURUSD", "at": shock_at.isoformat(), "sigmas": -50}]}
    path = Path(tmp_path) / "shock.json"
    path.write_text(json.dumps(scenario))
    brokers = sim_brokers(seed_firm, SystemClock(), Scenario.model_validate(scenario))
    open_positions(brokers, {"EU_HF_001": ("EURUSD", 3.0), "EU_HF_005": ("EURUSD", 2.0),
                             "EU_HF_004": ("EURUSD", 2.0), "SW_001": ("EURUSD", 1.0), "SW_002": ("EURUSD", 1.0),
                             "EU_HF_002": ("EURUSD", 2.0), "EU_HF_003": ("EURUSD", 2.0)})
    port = _free_port()
    env = {**os.environ, "MULTIACCOUNT_API_TOKEN": TOKEN, "MULTIACCOUNT_SCENARIO": str(path),
           "MULTIACCOUNT_BROKER": "simulated"}
    env.pop("MULTIACCOUNT_REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "multiaccount.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{base}/health", timeout=1).status_code == 200, 60, "service up")
        yield base, proc, brokers
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_serve_when_shock_hits_then_monitor_emergency_stops_the_firm_by_itself(service):
    base, proc, brokers = service
    # auth over real HTTP
    assert httpx.get(f"{base}/v1/state", timeout=5).status_code == 401
    assert httpx.get(f"{base}/v1/state", headers=AUTH, timeout=5).json()["firm"] == "ACTIVE"
    # the monitor beats into the store
    _wait(lambda: httpx.get(f"{base}/v1/health", headers=AUTH, timeout=5).json()["ticks"] >= 2, 20, "monitor ticks")
    risk = httpx.get(f"{base}/v1/risk", headers=AUTH, timeout=5).json()
    assert risk["firm"]["connected"] == 10 and risk["accounts"]["EU_HF_001"]["positions"] == 1
    # the scripted shock: firm drawdown above 20 % -> emergency stop, positions closed
    _wait(lambda: httpx.get(f"{base}/v1/state", headers=AUTH, timeout=5).json()["firm"] == "HALTED", 40,
          "emergency stop")
    assert proc.poll() is None
    _wait(lambda: all(not b.positions() for b in brokers.values()), 10, "flat firm")
    from multiaccount.store import Store

    store = Store.open()
    try:
        _wait(lambda: any(e["kind"] == "emergency_stop" for e in store.risk_events.since(0, 500)), 10,
              "emergency_stop risk event")
    except AssertionError:
        proc.terminate()
        print(proc.stdout.read().decode()[-5000:])
        print([e["kind"] for e in store.risk_events.since(0, 500)])
        raise
    assert store.heartbeat.last("risk_monitor").beats >= 3
