"""The signal/control API: token auth (401), validation naming the field (422), body limit (413),
idempotent signal ids, halt/resume/emergency stop with reason and actor."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from multiaccount.domain import OrderStatus, Scope, TradingState
from multiaccount.realtime.api import create_app
from multiaccount.routing import AccountResult, RoutingReport

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SIGNAL = {"id": "sig-001", "symbol": "EURUSD", "side": "buy", "stop": 1.08, "strategy": "ict_silver_bullet",
          "created": "2026-12-01T09:00:00Z"}


class CountingRouter:
    """Stands in for SignalRouter: records each routed signal (the router has its own tests)."""

    def __init__(self) -> None:
        self.routed: list[str] = []
        self.states = None

    def route(self, signal, received_at=None) -> RoutingReport:
        self.routed.append(signal.id)
        return RoutingReport(signal.id, received_at, [AccountResult("EU_HF_001", OrderStatus.FILLED, "", "cid-1", 0.5)])


class StubRuntime:
    """Enough runtime for auth/validation tests: records what would have been routed."""

    def __init__(self, firm) -> None:
        self.firm = firm
        self.submitted: list[str] = []

    def submit_signal(self, signal, source="api"):
        self.submitted.append(signal.id)
        return {"signal_id": signal.id, "duplicate": False, "results": []}

    def health(self):
        return {"status": "ok", "last_beat": None}


@pytest.fixture(scope="module")
def stub():
    from multiaccount.config import load_firm
    from tests.conftest import SEED_CONFIG

    rt = StubRuntime(load_firm(SEED_CONFIG))
    return rt, TestClient(create_app(rt, TOKEN))


@pytest.fixture
def client(sim_runtime):
    sim_runtime.router_factory = CountingRouter
    return TestClient(create_app(sim_runtime, TOKEN))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789"},
                                     {"Authorization": TOKEN}])
@pytest.mark.parametrize("method, path", [("get", "/v1/risk"), ("get", "/v1/state"), ("post", "/v1/signals"),
                                          ("post", "/v1/halt"), ("post", "/v1/emergency-stop")])
def test_request_when_token_missing_or_wrong_then_401(stub, headers, method, path):
    rt, client = stub
    r = getattr(client, method)(path, headers=headers, **({"json": SIGNAL} if method == "post" else {}))
    assert r.status_code == 401


@pytest.mark.parametrize("patch, field", [
    ({"stop": -1}, "stop"), ({"side": "long"}, "side"), ({"symbol": "X"}, "symbol"),
    ({"created": "2026-12-01T09:00:00"}, "created"), ({"id": "bad id!"}, "id"), ({"extra": 1}, "extra"),
    ({"take_profit_ratio": 100}, "take_profit_ratio")])
def test_signal_when_malformed_or_out_of_range_then_422_names_the_field(stub, patch, field):
    rt, client = stub
    r = client.post("/v1/signals", headers=AUTH, json={**SIGNAL, **patch})
    assert r.status_code == 422
    assert field in r.json()["fields"]
    assert "sig-001" not in rt.submitted


def test_signal_when_body_oversized_then_413_and_nothing_routed(stub):
    rt, client = stub
    r = client.post("/v1/signals", headers=AUTH, json={**SIGNAL, "id": "big", "strategy": "x" * 70_000})
    assert r.status_code == 413
    streamed = client.post("/v1/signals", headers={**AUTH, "content-type": "application/json"},
                           content=iter([b"{" + b" " * 40_000, b" " * 40_000 + b"}"]))
    assert streamed.status_code == 413
    assert "big" not in rt.submitted


def test_signal_when_same_id_sent_twice_then_routed_once_and_replay_reports_first_result(client, sim_runtime):
    first = client.post("/v1/signals", headers=AUTH, json=SIGNAL)
    second = client.post("/v1/signals", headers=AUTH, json=SIGNAL)
    assert first.status_code == 202 and second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["results"][0]["client_id"] == "cid-1"
    assert sim_runtime.router.routed == ["sig-001"]


def test_halt_and_resume_when_reason_and_actor_given_then_state_changes_and_is_audited(client, sim_runtime):
    r = client.post("/v1/halt", headers=AUTH, json={"scope": "group:swing_trading", "reason": "news", "actor": "bob"})
    assert r.status_code == 200 and r.json()["state"] == "HALTED"
    assert sim_runtime.states.effective("SW_001") is TradingState.HALTED
    r = client.post("/v1/resume", headers=AUTH, json={"scope": "group:swing_trading", "reason": "all clear",
                                                         "actor": "bob"})
    assert r.json()["state"] == "ACTIVE"
    assert {a.action for a in sim_runtime.store.audit.list(actor="bob")} == {"halt", "resume"}


@pytest.mark.parametrize("body, field", [({"scope": "group:nope", "reason": "x" * 5, "actor": "bob"}, "scope"),
                                         ({"scope": "firm", "reason": "x" * 5}, "actor"),
                                         ({"scope": "firm", "actor": "bob"}, "reason")])
def test_halt_when_scope_unknown_or_actor_or_reason_missing_then_422(stub, body, field):
    _, client = stub
    r = client.post("/v1/halt", headers=AUTH, json=body)
    assert r.status_code == 422
    assert field in str(r.json())


def test_emergency_stop_when_called_then_firm_halted_and_timeline_returned(client, sim_runtime):
    r = client.post("/v1/emergency-stop", headers=AUTH, json={"reason": "drill", "actor": "alice"})
    assert r.status_code == 200 and r.json()["ok"] and r.json()["halted"]
    assert [e["kind"] for e in r.json()["timeline"]][0] == "detected"
    assert sim_runtime.states.state(Scope.firm()) is TradingState.HALTED
    assert client.get("/v1/state", headers=AUTH).json()["firm"] == "HALTED"


def test_risk_and_health_when_monitor_ticked_then_report_snapshot(client, sim_runtime):
    sim_runtime.monitor.tick()
    risk = client.get("/v1/risk", headers=AUTH).json()
    assert risk["firm"]["accounts"] == 10 and risk["firm"]["connected"] == 10
    assert client.get("/health").json()["status"] == "ok"
