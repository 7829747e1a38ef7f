"""Cross-file rules, one `_check_<topic>` each, messages saying how to fix the problem."""

from __future__ import annotations

import os
from datetime import date
from typing import TYPE_CHECKING

from multiaccount.config.loader import CROSSES, MASTER_FILE, RISK_MATRIX_FILE, SESSIONS_FILE, SYMBOLS_FILE
from multiaccount.config.secrets import broker_mode

if TYPE_CHECKING:
    from multiaccount.config.loader import FirmConfig, _Collector

MAX_ACCOUNTS = 50


def cross_checks(firm: FirmConfig, c: _Collector, group_files: dict[str, str], account_files: dict[str, str],
                 warnings: list[str]) -> None:
    _check_allocations(firm, c)
    _check_groups(firm, c, group_files)
    _check_membership(firm, c, group_files, account_files)
    _check_symbols_and_sessions(firm, c, account_files)
    _check_risk_matrix(firm, c)
    _check_limits(firm, c)
    _check_secrets(firm, c, account_files, warnings)


def _check_allocations(firm: FirmConfig, c: _Collector) -> None:
    total = sum(g.allocation_percentage for g in firm.master.account_groups.values())
    if abs(total - 1.0) > 1e-6:
        c.add(MASTER_FILE, "account_groups.*.allocation_percentage", round(total, 6),
              "group allocations must sum to 1.0; adjust the groups' allocation_percentage")


def _check_groups(firm: FirmConfig, c: _Collector, group_files: dict[str, str]) -> None:
    declared, defined = set(firm.master.account_groups), set(firm.groups)
    for name in sorted(declared - defined):
        c.add(MASTER_FILE, f"account_groups.{name}", name, "group has no file in accounts/account_groups/")
    for name in sorted(defined - declared):
        c.add(group_files[name], "group.name", name, "group is not declared in master_account_config.json")


def _check_membership(firm: FirmConfig, c: _Collector, group_files: dict[str, str],
                      account_files: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for gname, g in firm.groups.items():
        for i, acc in enumerate(g.accounts):
            if acc not in firm.accounts:
                c.add(group_files[gname], f"group.accounts.{i}", acc, "unknown account (no individual config file)")
            if acc in seen and seen[acc] != gname:
                c.add(group_files[gname], f"group.accounts.{i}", acc,
                      f"account is in two groups ({seen[acc]} and {gname}); keep it in one")
            seen.setdefault(acc, gname)
        if g.backup_account is not None and g.backup_account not in g.accounts:
            c.add(group_files[gname], "group.backup_account", g.backup_account,
                  "backup account must be a member of the group")
    for acc in sorted(set(firm.accounts) - set(seen)):
        c.add(account_files[acc], "account_info.account_id", acc, "account is in no group; add it to one group file")
    if len(firm.accounts) > MAX_ACCOUNTS:
        c.add("accounts/individual_accounts", "", len(firm.accounts), f"at most {MAX_ACCOUNTS} accounts are supported")


def _check_symbols_and_sessions(firm: FirmConfig, c: _Collector, account_files: dict[str, str]) -> None:
    known = firm.symbols.symbols
    for sym in known:
        if sym not in firm.symbols.reference_prices:
            c.add(SYMBOLS_FILE, f"reference_prices.{sym}", None, "symbol has no reference price")
    for acc_id, acc in firm.accounts.items():
        f = account_files[acc_id]
        for i, sym in enumerate(acc.trading_config.specialization):
            if sym != CROSSES and sym not in known:
                c.add(f, f"trading_config.specialization.{i}", sym,
                      f"unknown symbol; known: {', '.join(sorted(known))} or '{CROSSES}'")
        for i, s in enumerate(acc.trading_config.trading_sessions):
            if s not in firm.sessions.sessions:
                c.add(f, f"trading_config.trading_sessions.{i}", s,
                      f"unknown session; defined in sessions.json: {', '.join(sorted(firm.sessions.sessions))}")
    for i, h in enumerate(firm.sessions.holidays):
        try:
            date.fromisoformat(h)
        except ValueError:
            c.add(SESSIONS_FILE, f"holidays.{i}", h, "not a date YYYY-MM-DD")


def _check_risk_matrix(firm: FirmConfig, c: _Collector) -> None:
    known = firm.symbols.symbols
    currencies = {s.base for s in known.values()} | {s.quote for s in known.values()}
    for i, cap in enumerate(firm.risk_matrix.symbol_correlation_caps):
        for j, sym in enumerate(cap.symbols):
            if sym not in known:
                c.add(RISK_MATRIX_FILE, f"symbol_correlation_caps.{i}.symbols.{j}", sym, "unknown symbol")
    for ccy in firm.risk_matrix.currency_exposure_caps:
        if ccy not in currencies:
            c.add(RISK_MATRIX_FILE, f"currency_exposure_caps.{ccy}", ccy, "currency of no configured symbol")
    for i, pair in enumerate(firm.risk_matrix.failover_pairs):
        for role in ("primary", "backup"):
            acc = getattr(pair, role)
            if acc not in firm.accounts:
                c.add(RISK_MATRIX_FILE, f"failover_pairs.{i}.{role}", acc, "unknown account")


def _check_limits(firm: FirmConfig, c: _Collector) -> None:
    m = firm.master.master_account
    if m.emergency_stop_threshold <= m.max_daily_loss:
        c.add(MASTER_FILE, "master_account.emergency_stop_threshold", m.emergency_stop_threshold,
              f"must be above max_daily_loss ({m.max_daily_loss}): the emergency stop is the last line")
    for gname, g in firm.master.account_groups.items():
        if g.max_group_risk > m.max_total_risk:
            c.add(MASTER_FILE, f"account_groups.{gname}.max_group_risk", g.max_group_risk,
                  f"a group cap above max_total_risk ({m.max_total_risk}) can never bind")


def _check_secrets(firm: FirmConfig, c: _Collector, account_files: dict[str, str], warnings: list[str]) -> None:
    """A referenced secret must be set when real terminals are used; with simulated ones it is only a warning."""
    strict = broker_mode() != "simulated"
    unset: list[str] = []
    for acc_id, acc in firm.accounts.items():
        var = acc.account_info.password_env
        if os.environ.get(var):
            continue
        if strict:
            c.add(account_files[acc_id], "account_info.mt5_password", "${" + var + "}",
                  f"environment variable {var} is not set")
        else:
            unset.append(var)
    if unset:
        shown = ", ".join(unset[:3]) + (f" and {len(unset) - 3} more" if len(unset) > 3 else "")
        warnings.append(f"{len(unset)} terminal password(s) not set ({shown}): "
                        "fine for simulated terminals, required with MULTIACCOUNT_BROKER=mt5")
