"""The demo's trading day (Tuesday 2026-12-01) as a simulation preset.

`config/scenarios/demo_day.json` was calibrated by running exactly these options on the seed firm
(tests/simulation/test_demo_day.py asserts the outcome): one account halted by its daily loss until
the rollover, another halted and flattened by its drawdown, the firm below the emergency threshold.
The outcome depends on the positions the seeded signals build up before the shock, so the demo must
use these options (signal seed, one-minute steps, the terminals' default market seed) to see it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from multiaccount.config import FirmConfig
from multiaccount.simulation.driver import SimulationOptions, simulate
from multiaccount.simulation.report import SimulationReport

DEMO_DAY_SCENARIO = Path(__file__).resolve().parents[3] / "config" / "scenarios" / "demo_day.json"
DEMO_DAY_START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def demo_day_options(**overrides: Any) -> SimulationOptions:
    base = dict(start=DEMO_DAY_START, days=1, step=timedelta(minutes=1), seed=7, market_seed=None,
                scenario=DEMO_DAY_SCENARIO, signal_prefix="demo")
    base.update(overrides)
    return SimulationOptions(**base)


def run_demo_day(firm: FirmConfig, store: Any, **overrides: Any) -> SimulationReport:
    """Trade the seed firm through the demo day with its scripted shock."""
    return simulate(firm, store, demo_day_options(**overrides))
