"""Where the project keeps its data: `MULTIACCOUNT_HOME` (default `<checkout>/var`)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def home() -> Path:
    """Data folder (SQLite store, reports, backups, logs); created on first use."""
    path = Path(os.environ.get("MULTIACCOUNT_HOME") or PROJECT_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    return Path(os.environ.get("MULTIACCOUNT_REPORTS_DIR") or sub("reports"))


def backups_dir() -> Path:
    return Path(os.environ.get("MULTIACCOUNT_BACKUPS_DIR") or sub("backups"))
