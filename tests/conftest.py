"""Shared fixtures. Topic fixtures live in tests/fixtures/*.py and are loaded as plugins here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from multiaccount.config import FirmConfig, load_firm
from multiaccount.domain import ManualClock

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEED_CONFIG = PROJECT_ROOT / "config"

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}" for p in (Path(__file__).parent / "fixtures").glob("*.py") if p.stem != "__init__"
)


@pytest.fixture(scope="session")
def seed_firm() -> FirmConfig:
    """The seed firm (ten accounts, three groups) loaded from config/."""
    return load_firm(SEED_CONFIG)


@pytest.fixture
def clock() -> ManualClock:
    """Tuesday 2026-12-01 09:00 London (GMT): London killzone open, FX market open."""
    return ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own data folder; nothing touches the checkout's var/."""
    monkeypatch.setenv("MULTIACCOUNT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MULTIACCOUNT_DB_URL", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("MULTIACCOUNT_BROKER", "simulated")
