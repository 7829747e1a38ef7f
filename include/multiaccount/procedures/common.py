"""What every procedure step shares: the run it belongs to (`RunInfo`) and its summary type.

Steps take primitives or a `RunInfo` dict and return JSON-able dicts, so each is one Airflow task
(inputs and outputs travel through XCom), one CLI step, and a line the demo prints. A step never
asks for "today": the trading day comes from the run's logical date, so a rerun a week later
recomputes exactly the same day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from multiaccount.procedures.calendar import trading_day_of


class UnknownAccounts(ValueError):
    """The accounts subset names accounts that are not configured (needs a human: fix the param)."""


def account_ids_on_disk(config_dir: Path | None = None) -> list[str]:
    """Configured account ids from the file names alone (cheap enough for DAG parse time)."""
    from multiaccount.config import default_config_dir

    root = (config_dir or default_config_dir()) / "accounts" / "individual_accounts"
    return sorted(p.name.removesuffix("_config.json") for p in root.glob("*_config.json"))


@dataclass(frozen=True)
class RunInfo:
    """One procedure run: which trading day, which accounts, dry or not; JSON-able through XCom."""

    trading_day: date
    as_of: datetime  # the instant the run stands for (logical date or run_after), UTC
    timezone: str
    run_id: str = "manual"
    dry_run: bool = False
    accounts: tuple[str, ...] = ()
    force_rebalance: bool = False

    @classmethod
    def create(cls, *, instant: datetime, timezone: str, run_id: str = "manual", trading_day: str | date | None = None,
               dry_run: bool = False, accounts: Iterable[str] = (), force_rebalance: bool = False,
               known_accounts: Iterable[str] | None = None) -> RunInfo:
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        known = list(known_accounts) if known_accounts is not None else account_ids_on_disk()
        wanted = tuple(dict.fromkeys(a.strip() for a in accounts if a and a.strip()))
        unknown = [a for a in wanted if a not in known]
        if unknown:
            raise UnknownAccounts(f"accounts not configured: {unknown}; known: {known}")
        day = (date.fromisoformat(trading_day) if isinstance(trading_day, str) else trading_day) \
            or trading_day_of(instant, timezone)
        return cls(trading_day=day, as_of=instant.astimezone(UTC), timezone=timezone, run_id=run_id,
                   dry_run=dry_run, accounts=wanted or tuple(known), force_rebalance=force_rebalance)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["trading_day"] = self.trading_day.isoformat()
        d["as_of"] = self.as_of.isoformat()
        d["accounts"] = list(self.accounts)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | RunInfo) -> RunInfo:
        if isinstance(d, RunInfo):
            return d
        return cls(trading_day=date.fromisoformat(d["trading_day"]), as_of=datetime.fromisoformat(d["as_of"]),
                   timezone=d["timezone"], run_id=d.get("run_id", "manual"), dry_run=bool(d.get("dry_run")),
                   accounts=tuple(d.get("accounts", ())), force_rebalance=bool(d.get("force_rebalance")))

    @property
    def key(self) -> str:
        """Upsert key of everything this run writes: the trading day, never the run id (reruns converge)."""
        return self.trading_day.isoformat()
