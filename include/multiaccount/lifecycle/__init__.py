"""Position lifecycle: stops, take profits, trailing, holding periods, rollover and weekend policies."""

from multiaccount.lifecycle.apply import LifecycleApplier, action_client_id
from multiaccount.lifecycle.rules import ActionKind, LifecycleAction, initial_stop, plan_lifecycle, take_profit_from_ratio

__all__ = ["ActionKind", "LifecycleAction", "LifecycleApplier", "action_client_id", "initial_stop",
           "plan_lifecycle", "take_profit_from_ratio"]
