"""Store-facing glue: gather frames, build, write and index a report (used by the CLI and procedures)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from multiaccount.config import FirmConfig
from multiaccount.performance.returns import day_bounds
from multiaccount.performance.sources import load_frames, trading_states
from multiaccount.reports.data import ReportInputs, build_daily, build_monthly, month_bounds
from multiaccount.reports.render import write_report


def _transfers_frame(store: Any, since: datetime, until: datetime) -> pd.DataFrame:
    from multiaccount.rebalancing.ledger import StoreTransferLedger

    rows = [r for r in StoreTransferLedger(store).list()]
    return pd.DataFrame([{"transfer_id": r.transfer_id, "plan_key": r.plan_key, "from_account": r.from_account,
                          "to_account": r.to_account, "amount": float(r.amount), "live": r.live, "status": r.status,
                          "confirmed_by": r.confirmed_by or "",
                          "confirmed_at": r.confirmed_at.isoformat() if r.confirmed_at else ""} for r in rows],
                        columns=["transfer_id", "plan_key", "from_account", "to_account", "amount", "live", "status",
                                 "confirmed_by", "confirmed_at"])


def daily_report(store: Any, firm: FirmConfig, day: date, now: datetime) -> dict[str, Path]:
    """Build and write the daily report for trading `day` (history from 90 days before)."""
    _, end = day_bounds(day)
    frames = load_frames(store, firm, since=end - timedelta(days=90), until=end + timedelta(seconds=1))
    inputs = ReportInputs(firm, frames["snapshots"], frames["flows"], frames["trades"], frames["fills"],
                          states=trading_states(store))
    return write_report(build_daily(inputs, day), firm, now, store)


def monthly_review(store: Any, firm: FirmConfig, month: str, now: datetime,
                   dr_test: dict | None = None) -> dict[str, Path]:
    first, last = month_bounds(month)
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    frames = load_frames(store, firm, since=start - timedelta(days=7), until=end + timedelta(seconds=1))
    inputs = ReportInputs(firm, frames["snapshots"], frames["flows"], frames["trades"], frames["fills"],
                          states=trading_states(store), transfers=_transfers_frame(store, start, end),
                          dr_test=dr_test)
    return write_report(build_monthly(inputs, month), firm, now, store)
