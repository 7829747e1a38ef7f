"""One ABC for every limit, a registry by config name, and the grading rule shared by all.

Each limit is a small class in its own file (freqtrade's protections idiom): `evaluate(snapshot)`
returns the verdicts for every scope it watches (empty when all is well) and `short_desc()` says in
one line what it checks. `build_limits(firm)` builds them from config by name.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.model import Scope, Severity
from multiaccount.risk.snapshot import RiskSnapshot
from multiaccount.risk.verdict import Action, Verdict

LIMITS: dict[str, type[Limit]] = {}


def register(cls: type[Limit]) -> type[Limit]:
    if cls.name in LIMITS:
        raise ValueError(f"limit '{cls.name}' registered twice")
    LIMITS[cls.name] = cls
    return cls


class Limit(ABC):
    """A risk limit. Subclasses set `name`, `code`, `critical_action` and implement `evaluate`."""

    name: ClassVar[str]
    code: ClassVar[str]
    critical_action: ClassVar[Action] = Action.HALT
    warning_action: ClassVar[Action] = Action.REDUCE
    # Loss limits breach AT the limit ("at max_daily_loss new trades halt"); exposure caps ("<= cap")
    # breach only ABOVE it, so a trade the pre-trade check accepted up to the cap is not halted for it.
    breach_at_limit: ClassVar[bool] = True

    def __init__(self, firm: FirmConfig):
        self.firm = firm
        self.warn_fraction = firm.master.risk_controls.warn_fraction
        self.debounce_reads = firm.master.risk_controls.debounce_reads

    @abstractmethod
    def evaluate(self, snapshot: RiskSnapshot) -> list[Verdict]:
        ...

    @abstractmethod
    def short_desc(self) -> str:
        ...

    # ---------------------------------------------------------------- helpers for subclasses
    def grade(self, measured: float, limit: float) -> Severity | None:
        """critical at/above the limit (above it for caps), warning at/above warn_fraction x limit."""
        if math.isnan(measured):
            return None
        tol = 1e-9 * abs(limit)  # 0.8 x 0.05 is 0.04000000000000001 in floats
        if measured >= limit - tol if self.breach_at_limit else measured > limit + tol:
            return Severity.CRITICAL
        if measured >= self.warn_fraction * limit - tol:
            return Severity.WARNING
        return None

    def candidates(self, values, limit, reported=None):
        """Indices worth grading (at or above the warning level): keeps the per-scope loop tiny."""
        import numpy as np

        mask = np.asarray(values) >= self.warn_fraction * np.asarray(limit) * (1 - 1e-9)
        if reported is not None:
            mask &= reported
        return np.flatnonzero(mask)

    def verdict(self, scope: Scope, measured: float, limit: float, severity: Severity, *, until=None,
                subject: str = "", extra: str = "", action: Action | None = None, **detail) -> Verdict:
        act = action or (self.critical_action if severity is Severity.CRITICAL else self.warning_action)
        label = f"{scope.kind.value}={scope.name}" if scope.kind.value != "firm" else "firm"
        what = f", {subject}" if subject else ""
        warn = f", warn_at={self.warn_fraction * limit:.3f}" if severity is Severity.WARNING else ""
        reason = f"{self.code}: {label}{what}, measured={measured:.3f}{warn}, limit={limit:.3f}{extra}"
        if subject:
            detail["subject"] = subject
        return Verdict(scope, self.name, float(measured), float(limit), severity, act, reason, until, detail)

    def graded(self, scope: Scope, measured: float, limit: float, **kw) -> Iterable[Verdict]:
        sev = self.grade(measured, limit)
        if sev is not None:
            yield self.verdict(scope, measured, limit, sev, **kw)


def build_limits(firm: FirmConfig, names: Iterable[str] | None = None) -> list[Limit]:
    """Instantiate limits by config name (all registered ones by default, in registration order)."""
    import multiaccount.risk.limits  # noqa: F401  (registers every limit module)

    chosen = list(names) if names is not None else list(LIMITS)
    unknown = [n for n in chosen if n not in LIMITS]
    if unknown:
        raise ValueError(f"unknown limit(s) {unknown}; known: {sorted(LIMITS)}")
    return [LIMITS[n](firm) for n in chosen]
