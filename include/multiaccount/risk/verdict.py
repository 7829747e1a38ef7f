"""The result of evaluating one limit on one scope: a frozen, self-explaining `Verdict`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from multiaccount.domain.model import Scope, Severity, TradingState


class Action(StrEnum):
    """What the engine does about a verdict (after debounce, except EMERGENCY_STOP)."""

    ALERT = "alert"                          # tell operators, change nothing
    REDUCE = "reduce"                        # scope REDUCING (risk halved for new trades)
    HALT = "halt"                            # scope HALTED (nothing new) until an explicit resume
    HALT_UNTIL = "halt_until"                # scope HALTED until `until` (next 17:00 New York)
    HALT_AND_FLATTEN = "halt_and_flatten"    # HALTED and close every position of the scope
    REDUCTION_PLAN = "reduction_plan"        # REDUCING + cut largest risk first until within the limit
    REDUCE_CORRELATED = "reduce_correlated"  # REDUCING + cut the most correlated exposure first
    EMERGENCY_STOP = "emergency_stop"        # firm HALTED (+ flatten all when configured); first read

    @property
    def target_state(self) -> TradingState | None:
        if self is Action.ALERT:
            return None
        if self in (Action.REDUCE, Action.REDUCTION_PLAN, Action.REDUCE_CORRELATED):
            return TradingState.REDUCING
        return TradingState.HALTED

    @property
    def is_hard(self) -> bool:
        return self is not Action.ALERT


@dataclass(frozen=True)
class Verdict:
    """One limit breached (or nearly) on one scope. `reason` starts with an upper-case code and
    carries the numbers, e.g. `MAX_GROUP_RISK: group=high_frequency, measured=0.083, limit=0.080`."""

    scope: Scope
    limit: str
    measured: float
    threshold: float
    severity: Severity
    action: Action
    reason: str
    until: datetime | None = None
    detail: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[Scope, str, str]:
        """Debounce key: the same limit on the same scope (and same currency/block if any)."""
        return (self.scope, self.limit, str(self.detail.get("subject", "")))
