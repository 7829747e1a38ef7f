"""What a simulation run found: the frozen, JSON-able `SimulationReport` and the small trackers that
fill it while the driver runs (order accounting, breach durations, memory samples).

The trackers keep counters and bounded samples only, never per-order lists, so a week of 50
accounts does not itself make the process grow.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from multiaccount.domain import OrderStatus, Scope, TradingState
from multiaccount.risk.verdict import Action, Verdict

ACKNOWLEDGED = {OrderStatus.FILLED.value, OrderStatus.PARTIAL.value, OrderStatus.PLACED.value}
MEMORY_SLACK_BYTES = 50 * 1024 * 1024
MEMORY_SLACK_RATIO = 0.10


def reason_code(reason: str) -> str:
    """`MAX_GROUP_RISK: group=...` -> `MAX_GROUP_RISK` (reasons start with an upper-case code)."""
    code = (reason or "").split(":", 1)[0].strip()
    return code or "NO_REASON"


@dataclass
class OrderTally:
    """Per-account routing results, counted as they come back from the router."""

    signals: int = 0
    signals_rejected: int = 0
    routed: int = 0  # results for accounts the router targeted (everything but SKIPPED)
    acknowledged: int = 0
    rejected: int = 0
    rejected_without_reason: int = 0
    unknown: int = 0
    duplicate: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)
    signal_reasons: Counter = field(default_factory=Counter)

    def add(self, result: dict[str, Any]) -> None:
        self.signals += 1
        if result.get("reason") and not result.get("results"):
            self.signals_rejected += 1
            self.signal_reasons[reason_code(result["reason"])] += 1
        for r in result.get("results", []):
            status, reason = r["status"], r.get("reason") or ""
            if status == OrderStatus.SKIPPED.value:
                self.skipped += 1
                continue
            self.routed += 1
            if status in ACKNOWLEDGED:
                self.acknowledged += 1
            elif status == OrderStatus.REJECTED.value:
                self.rejected += 1
                self.reasons[reason_code(reason)] += 1
                if not reason.strip():
                    self.rejected_without_reason += 1
            elif status == OrderStatus.DUPLICATE.value:
                self.duplicate += 1
            else:
                self.unknown += 1


def _target_reached(action: Action, state: TradingState) -> bool:
    target = action.target_state
    if target is None:
        return True
    if target is TradingState.REDUCING:
        return state in (TradingState.REDUCING, TradingState.HALTED)
    return state is TradingState.HALTED


class BreachTracker:
    """How long each hard-action breach stayed *unhandled*: from the first read that saw it until the
    read after which its scope was in the state the action demands (or the breach went away).

    DESIGN section 3: a hard action needs `debounce_reads` consecutive reads at 1 Hz, so no breach may
    stay unhandled longer than that window; the emergency stop acts on the first read."""

    def __init__(self) -> None:
        self._open: dict[tuple, tuple[datetime, datetime]] = {}  # key -> (first seen, last seen) unhandled
        self._handled: set[tuple] = set()
        self.longest_seconds = 0.0
        self.longest_key = ""
        self.handled = 0

    def observe(self, at: datetime, verdicts: list[Verdict], state_of: Any) -> list[tuple]:
        """Record one read; returns the keys still unhandled after it (the driver re-reads at 1 Hz)."""
        current: dict[tuple, Verdict] = {}
        for v in verdicts:
            if v.action.is_hard:
                current.setdefault((str(v.scope), v.limit, str(v.detail.get("subject", "")), v.action.value), v)
        pending: list[tuple] = []
        for key, v in current.items():
            if key in self._handled:
                continue
            first, _ = self._open.get(key, (at, at))
            if _target_reached(v.action, state_of(v.scope)):
                self._record(key, first, at)
                self._open.pop(key, None)
                self._handled.add(key)
                self.handled += 1
            else:
                self._open[key] = (first, at)
                pending.append(key)
        for key in [k for k in self._open if k not in current]:  # went away before being acted on
            first, last = self._open.pop(key)
            self._record(key, first, last)
        self._handled &= set(current)  # a breach that clears and comes back is timed again
        return pending

    def _record(self, key: tuple, first: datetime, until: datetime) -> None:
        duration = (until - first).total_seconds()
        if duration > self.longest_seconds:
            self.longest_seconds = duration
            self.longest_key = " ".join(key)


def state_reader(states: Any) -> Any:
    """`scope -> TradingState` over the trading state service (account scopes use the effective state)."""
    def read(scope: Scope) -> TradingState:
        if scope.kind.value == "account":
            return states.effective(scope.name)
        return states.state(scope)
    return read


class MemoryProbe:
    """Resident set size samples of this process (psutil), for the bounded-memory verdict."""

    def __init__(self, max_samples: int = 4096):
        import psutil

        self._proc = psutil.Process(os.getpid())
        self.samples: list[float] = []
        self.max_samples = max_samples
        self._stride = 1
        self._calls = 0

    def sample(self) -> None:
        self._calls += 1
        if self._calls % self._stride:
            return
        self.samples.append(float(self._proc.memory_info().rss))
        if len(self.samples) >= self.max_samples:  # keep every other sample, sample half as often
            self.samples = self.samples[::2]
            self._stride *= 2


def memory_verdict(samples: list[float]) -> tuple[bool, float, float]:
    """(bounded?, second-quarter mean, last-quarter mean): the last quarter's mean RSS must stay
    within 10 % + 50 MB of the second quarter's (the first quarter is warm-up: imports, caches)."""
    if len(samples) < 8:
        return True, samples[0] if samples else 0.0, samples[-1] if samples else 0.0
    q = len(samples) // 4
    second = statistics.fmean(samples[q:2 * q])
    last = statistics.fmean(samples[3 * q:])
    return last <= second * (1 + MEMORY_SLACK_RATIO) + MEMORY_SLACK_BYTES, second, last


@dataclass(frozen=True)
class SimulationReport:
    """Everything a run establishes; `to_dict()` is JSON-able (the CLI's --json, the benchmark)."""

    accounts: int
    start: str
    end: str
    simulated_seconds: float
    wall_seconds: float
    steps: int
    monitor_ticks: int
    signals: int
    signals_rejected: int
    routed: int
    acknowledged: int
    rejected: int
    rejected_without_reason: int
    unknown: int
    duplicates: int
    skipped: int
    rejection_reasons: dict[str, int]
    ledger_sent: int
    ledger_pending: int
    fills_without_deal: int
    positions_without_stop_max: int
    positions_open_max: int
    longest_unhandled_breach_seconds: float
    longest_unhandled_breach: str
    debounce_window_seconds: float
    breaches_handled: int
    emergency_stops: int
    halts: tuple[dict[str, str], ...]
    lifecycle_actions: dict[str, int]
    procedures: dict[str, int]
    pnl_by_group: dict[str, float]
    equity_start: float
    equity_end: float
    final_states: dict[str, str]
    rss_samples_mb: tuple[float, ...]
    rss_second_quarter_mb: float
    rss_last_quarter_mb: float
    memory_bounded: bool
    tick_p50_ms: float
    tick_p99_ms: float
    step_p99_ms: float
    monitor_errors: int = 0  # ticks whose risk read failed (the monitor was blind for that read)

    @property
    def speed(self) -> float:
        """Simulated seconds per wall second."""
        return self.simulated_seconds / self.wall_seconds if self.wall_seconds > 0 else float("inf")

    @property
    def orders_accounted(self) -> bool:
        """Every routed order is acknowledged or rejected with a reason, and the ledger agrees."""
        return (self.routed == self.acknowledged + self.rejected + self.unknown + self.duplicates
                and self.unknown == 0 and self.rejected_without_reason == 0 and self.ledger_pending == 0
                and self.fills_without_deal == 0)

    @property
    def breaches_within_debounce(self) -> bool:
        return self.longest_unhandled_breach_seconds <= self.debounce_window_seconds

    @property
    def invariants_hold(self) -> bool:
        return (self.orders_accounted and self.positions_without_stop_max == 0 and self.breaches_within_debounce
                and self.memory_bounded)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(speed=round(self.speed, 2), orders_accounted=self.orders_accounted,
                 breaches_within_debounce=self.breaches_within_debounce, invariants_hold=self.invariants_hold)
        return d
