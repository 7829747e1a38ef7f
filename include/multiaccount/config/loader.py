"""Load the firm's configuration directory into one validated `FirmConfig`.

Loading never stops at the first problem: every file is parsed, every cross-file rule is checked,
and `ConfigError` carries the full list, each problem naming the file, the field path and the
offending value, so an operator fixes everything in one pass.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from multiaccount.config.models import (
    AccountConfig,
    AlertsConfig,
    GroupDefinition,
    GroupFile,
    GroupLimits,
    MasterConfig,
    NewsCalendar,
    RiskMatrix,
    SessionsConfig,
    SymbolsConfig,
    SymbolSpec,
)

M = TypeVar("M", bound=BaseModel)

ACCOUNTS_DIR = "accounts"
MASTER_FILE = "accounts/master_account_config.json"
GROUPS_DIR = "accounts/account_groups"
INDIVIDUAL_DIR = "accounts/individual_accounts"
RISK_MATRIX_FILE = "accounts/risk_matrix.json"
SESSIONS_FILE = "sessions.json"
SYMBOLS_FILE = "symbols.json"
NEWS_FILE = "news_calendar.json"
ALERTS_FILE = "alerts.json"
CROSSES = "crosses"


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    path: str
    value: Any
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        shown = "" if self.value is _MISSING else f" (value: {self.value!r})"
        return f"{where}: {self.message}{shown}"


_MISSING = object()


class ConfigError(Exception):
    """The configuration cannot be used; needs a human. Carries every problem found."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__(f"{len(problems)} configuration problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class FirmConfig:
    """Everything the firm is configured as; built once by `load_firm`."""

    root: Path
    master: MasterConfig
    groups: dict[str, GroupDefinition]
    accounts: dict[str, AccountConfig]
    risk_matrix: RiskMatrix
    sessions: SessionsConfig
    symbols: SymbolsConfig
    news: NewsCalendar
    alerts: AlertsConfig
    warnings: tuple[str, ...] = field(default=())

    @cached_property
    def account_group(self) -> dict[str, str]:
        return {acc: g for g, d in self.groups.items() for acc in d.accounts}

    def group_of(self, account_id: str) -> str:
        return self.account_group[account_id]

    def group_limits(self, group: str) -> GroupLimits:
        return self.master.account_groups[group]

    def accounts_in(self, group: str) -> list[str]:
        return list(self.groups[group].accounts)

    def symbol(self, name: str) -> SymbolSpec:
        return self.symbols.symbols[name]

    def covers(self, account_id: str, symbol: str) -> bool:
        """Does the account's specialization include the symbol (`crosses` = pairs without USD)?"""
        spec = self.accounts[account_id].trading_config.specialization
        return symbol in spec or (CROSSES in spec and symbol in self.symbols.symbols and self.symbol(symbol).is_cross)

    def backup_for(self, account_id: str) -> str | None:
        for pair in self.risk_matrix.failover_pairs:
            if pair.primary == account_id:
                return pair.backup
        group = self.groups[self.group_of(account_id)]
        return group.backup_account if group.backup_account != account_id else None

    def live_trading(self, account_id: str) -> bool:
        return self.accounts[account_id].account_info.live_trading and self.group_limits(
            self.group_of(account_id)).live_trading


def default_config_dir() -> Path:
    """`MULTIACCOUNT_CONFIG_DIR`, else `config/` of the project checkout."""
    env = os.environ.get("MULTIACCOUNT_CONFIG_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "config"


class _Collector:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[ConfigProblem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def add(self, file: str, path: str, value: Any, message: str) -> None:
        self.problems.append(ConfigProblem(file, path, value, message))

    def read(self, path: Path, model: type[M]) -> M | None:
        rel = self.rel(path)
        if not path.exists():
            self.add(rel, "", _MISSING, "file is missing")
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            self.add(rel, f"line {exc.lineno} column {exc.colno}", _MISSING, f"invalid JSON: {exc.msg}")
            return None
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                value = err.get("input", _MISSING)
                if isinstance(value, dict):
                    value = _MISSING
                self.add(rel, loc, value, msg)
            return None


def load_firm(root: Path | str | None = None) -> FirmConfig:
    """Parse and validate the whole configuration directory, or raise `ConfigError` with every problem."""
    from multiaccount.config.validation import cross_checks

    root = Path(root) if root is not None else default_config_dir()
    c = _Collector(root)
    if not root.is_dir():
        raise ConfigError([ConfigProblem(str(root), "", _MISSING, "configuration directory not found")])

    master = c.read(root / MASTER_FILE, MasterConfig)
    groups: dict[str, GroupDefinition] = {}
    group_files: dict[str, str] = {}
    gdir = root / GROUPS_DIR
    for p in sorted(gdir.glob("*.json")) if gdir.is_dir() else []:
        gf = c.read(p, GroupFile)
        if gf is None:
            continue
        if gf.group.name in groups:
            c.add(c.rel(p), "group.name", gf.group.name, f"group defined twice (also in {group_files[gf.group.name]})")
            continue
        groups[gf.group.name] = gf.group
        group_files[gf.group.name] = c.rel(p)
    if not gdir.is_dir():
        c.add(GROUPS_DIR, "", _MISSING, "directory is missing")

    accounts: dict[str, AccountConfig] = {}
    account_files: dict[str, str] = {}
    adir = root / INDIVIDUAL_DIR
    for p in sorted(adir.glob("*_config.json")) if adir.is_dir() else []:
        acc = c.read(p, AccountConfig)
        if acc is None:
            continue
        expected = p.name.removesuffix("_config.json")
        if acc.account_id != expected:
            c.add(c.rel(p), "account_info.account_id", acc.account_id,
                  f"does not match the file name; expected '{expected}'")
        if acc.account_id in accounts:
            c.add(c.rel(p), "account_info.account_id", acc.account_id, "account defined twice")
            continue
        accounts[acc.account_id] = acc
        account_files[acc.account_id] = c.rel(p)
    if not adir.is_dir():
        c.add(INDIVIDUAL_DIR, "", _MISSING, "directory is missing")

    # Optional or secondary files fall back to defaults after their problems are recorded, so the
    # cross-file checks still run and report everything in one pass.
    risk_matrix = c.read(root / RISK_MATRIX_FILE, RiskMatrix) or RiskMatrix()
    sessions = c.read(root / SESSIONS_FILE, SessionsConfig)
    symbols = c.read(root / SYMBOLS_FILE, SymbolsConfig)
    news = (c.read(root / NEWS_FILE, NewsCalendar) if (root / NEWS_FILE).exists() else None) or NewsCalendar()
    alerts = (c.read(root / ALERTS_FILE, AlertsConfig) if (root / ALERTS_FILE).exists() else None) or AlertsConfig()

    warnings: list[str] = []
    if master and sessions and symbols:
        firm = FirmConfig(root, master, groups, accounts, risk_matrix, sessions, symbols, news, alerts)
        cross_checks(firm, c, group_files, account_files, warnings)
    else:
        firm = None
    if c.problems:
        raise ConfigError(c.problems)
    assert firm is not None
    return FirmConfig(firm.root, firm.master, firm.groups, firm.accounts, firm.risk_matrix, firm.sessions,
                      firm.symbols, firm.news, firm.alerts, tuple(warnings))
