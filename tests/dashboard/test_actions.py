"""Operator actions: checked server-side, carried out through the TradingStateService, audited in the store."""

from __future__ import annotations

import pytest

from multiaccount.dashboard.actions import ActionRequest, perform_action
from multiaccount.domain import Scope, TradingState


def act(ctx, action="halt", scope="account:EU_HF_002", actor="Jane Risk", reason="slippage spike"):
    return perform_action(ActionRequest(action, scope, actor, reason), firm=ctx.firm, control=ctx.control,
                          read_only=not ctx.actions_enabled)


def test_halt_when_requested_with_actor_then_store_state_halted_audited_and_published(store_context, seeded_store,
                                                                                        events):
    ctx = store_context()

    result = act(ctx)

    assert result.ok, result.message
    record = seeded_store.trading_states.get(Scope.account("EU_HF_002"))
    assert (record.state, record.actor) == (TradingState.HALTED, "Jane Risk")
    assert "slippage spike" in record.reason
    audit = seeded_store.audit.list(actor="Jane Risk")
    assert [(a.action, a.scope) for a in audit] == [("dashboard.halt", "account:EU_HF_002")]
    assert [e.kind for e in events.events] == ["state_change"]


def test_resume_when_scope_halted_then_active_again_and_both_actions_audited(store_context, seeded_store):
    ctx = store_context()
    act(ctx, scope="group:swing_trading")

    result = act(ctx, action="resume", scope="group:swing_trading", reason="checked with desk")

    assert result.ok
    assert seeded_store.trading_states.get(Scope.group("swing_trading")).state is TradingState.ACTIVE
    assert [a.action for a in seeded_store.audit.list(actor="Jane Risk")] == ["dashboard.resume", "dashboard.halt"]


def test_halt_when_already_halted_then_nothing_changes_but_attempt_is_audited(store_context, seeded_store):
    ctx = store_context()
    act(ctx, scope="firm")
    version = seeded_store.trading_states.get(Scope.firm()).version

    result = act(ctx, scope="firm")

    assert result.ok and "nothing changed" in result.message
    assert seeded_store.trading_states.get(Scope.firm()).version == version
    assert len(seeded_store.audit.list(actor="Jane Risk")) == 2


def test_action_when_read_only_then_refused_and_store_untouched(store_context, seeded_store):
    ctx = store_context(read_only=True)

    result = act(ctx)

    assert not result.ok and "read-only" in result.message
    assert seeded_store.trading_states.all() == []
    assert seeded_store.audit.list() == []


def test_action_when_no_token_configured_then_refused(store_context, seeded_store):
    result = act(store_context(token=None))
    assert not result.ok
    assert seeded_store.trading_states.all() == []


@pytest.mark.parametrize(("field", "value", "says"), [
    ("actor", "", "actor"), ("actor", "x", "actor"), ("actor", "<script>", "actor"),
    ("reason", "", "reason"), ("scope", "account:NOPE_001", "unknown scope"),
    ("scope", "galaxy", "scope"), ("action", "liquidate", "unknown action"),
])
def test_action_when_request_incomplete_then_refused_with_what_to_fix(store_context, seeded_store, field, value,
                                                                      says):
    kwargs = {"action": "halt", "scope": "account:EU_HF_002", "actor": "Jane Risk", "reason": "slippage spike"}
    kwargs[field] = value

    result = act(store_context(), **kwargs)

    assert not result.ok and says in result.message
    assert seeded_store.trading_states.all() == []
