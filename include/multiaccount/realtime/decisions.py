"""The monitor's decision logic: a pure function of (verdicts of this read, debounce state, states).

The risk package evaluates every limit on a snapshot and returns verdicts (scope, limit, measured,
threshold, action). This module decides what to *do* this second, without I/O:

- a hard action (halt, reduce, flatten) fires when the same (scope, limit) breached on
  `reads_needed` consecutive reads (default 2 at 1 Hz), so one bad tick never flattens the firm;
- the emergency stop fires on the first read (DESIGN.md section 3);
- an action fires once per breach streak, and again only if the scope's state was lifted while the
  breach persists (someone resumed too early);
- a warning is emitted on the first read of its streak, not every second;
- a (scope, limit) absent from this read resets its streak.

Keeping this pure is what makes the 1 Hz loop unit-testable with hand-written verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from multiaccount.domain import Scope, TradingState
from multiaccount.risk.verdict import Action, Verdict


# Severity order of the risk engine's actions: the worst verdict per key wins, worst runs first.
RANK = {Action.ALERT: 0, Action.REDUCE: 1, Action.REDUCE_CORRELATED: 2, Action.REDUCTION_PLAN: 3,
        Action.HALT: 4, Action.HALT_UNTIL: 4, Action.HALT_AND_FLATTEN: 5, Action.EMERGENCY_STOP: 6}
STATE_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}

Key = tuple[Scope, str, str]


def verdict_key(v: Any) -> Key:
    """Debounce key: the same limit on the same scope (and subject, e.g. a currency)."""
    key = getattr(v, "key", None)
    if isinstance(key, tuple) and len(key) == 3:
        return key
    return (v.scope, str(v.limit), "")


@dataclass(frozen=True)
class PlannedAction:
    """A verdict the monitor acts on now, with how many consecutive reads it has breached."""

    verdict: Verdict
    reads: int

    @property
    def action(self) -> Action:
        return self.verdict.action

    @property
    def scope(self) -> Scope:
        return self.verdict.scope


@dataclass(frozen=True)
class DebounceState:
    """Consecutive *hard* breaching reads per key, keys seen last read, and streaks that acted."""

    counts: Mapping[Key, int] = field(default_factory=dict)
    acted: frozenset[Key] = frozenset()
    seen: frozenset[Key] = frozenset()


@dataclass(frozen=True)
class Decision:
    actions: tuple[PlannedAction, ...]
    state: DebounceState

    @property
    def hard(self) -> tuple[PlannedAction, ...]:
        return tuple(a for a in self.actions if a.action.is_hard)


def decide(verdicts: Iterable[Verdict], previous: DebounceState, states: Mapping[Scope, TradingState],
           reads_needed: int = 2) -> Decision:
    """Plan this second's actions. Pure: same inputs, same output."""
    if reads_needed < 1:
        raise ValueError("reads_needed must be >= 1")
    worst: dict[Key, Verdict] = {}
    for v in verdicts:
        key = verdict_key(v)
        if key not in worst or RANK[v.action] > RANK[worst[key].action]:
            worst[key] = v

    counts: dict[Key, int] = {}
    acted: set[Key] = set()
    planned: list[PlannedAction] = []
    for key, v in worst.items():
        if not v.action.is_hard:  # a warning: once per streak; it does not count toward a hard action
            if key not in previous.seen:
                planned.append(PlannedAction(v, 1))
            continue
        n = counts[key] = previous.counts.get(key, 0) + 1
        needed = 1 if v.action is Action.EMERGENCY_STOP else reads_needed
        if n < needed:
            continue
        acted.add(key)
        target = v.action.target_state
        lifted = target is not None and STATE_RANK[states.get(v.scope, TradingState.ACTIVE)] < STATE_RANK[target]
        if key not in previous.acted or lifted:
            planned.append(PlannedAction(v, n))
    planned.sort(key=lambda a: (-RANK[a.action], a.scope))
    return Decision(tuple(planned), DebounceState(counts, frozenset(acted), frozenset(worst)))
