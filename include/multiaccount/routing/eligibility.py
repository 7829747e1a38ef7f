"""Which accounts a signal goes to, and why the others do not (DESIGN section 4).

An account is eligible when its specialization covers the symbol (`crosses` = pairs without USD),
its sessions and its group's active hours are open (DST-correct), its effective state is not
HALTED, it is connected, the signal's strategy has weight > 0, and live_trading is respected
(research accounts only on simulated terminals). Standby accounts trade only on failover: a halted
or disconnected specialist fails over to its backup (`FirmConfig.backup_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.model import TradingSignal, TradingState
from multiaccount.risk.calendar import active_hours_open, any_session_open


@dataclass(frozen=True)
class Target:
    account_id: str
    failover_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class Eligibility:
    targets: list[Target]
    skipped: dict[str, str]  # account -> coded reason


def _static_reason(firm: FirmConfig, account_id: str, signal: TradingSignal, now: datetime,
                   is_simulated: Callable[[str], bool]) -> str | None:
    acc = firm.accounts[account_id]
    if not firm.covers(account_id, signal.symbol):
        return f"NOT_SPECIALIZED: account={account_id}, symbol={signal.symbol}"
    if acc.strategy_allocation.get(signal.strategy, 0.0) <= 0:
        return f"NO_STRATEGY_WEIGHT: account={account_id}, strategy={signal.strategy}"
    if not firm.live_trading(account_id) and not is_simulated(account_id):
        return f"LIVE_TRADING_DISABLED: account={account_id}, research accounts trade on simulated terminals only"
    if not any_session_open(firm.sessions, acc.trading_config.trading_sessions, now):
        return f"OUTSIDE_SESSION: account={account_id}, sessions={','.join(acc.trading_config.trading_sessions)}"
    group = firm.group_of(account_id)
    if not active_hours_open(firm.group_limits(group), now):
        return f"OUTSIDE_ACTIVE_HOURS: group={group}, account={account_id}"
    return None


def _live_reason(account_id: str, states: Mapping[str, TradingState], connected: Mapping[str, bool]) -> str | None:
    if not connected.get(account_id, False):
        return f"DISCONNECTED: account={account_id}"
    if states.get(account_id, TradingState.ACTIVE) is TradingState.HALTED:
        return f"STATE_HALTED: account={account_id}"
    return None


def candidate_accounts(firm: FirmConfig, signal: TradingSignal, now: datetime,
                       is_simulated: Callable[[str], bool] = lambda _a: False) -> list[str]:
    """Every account that could be a target before any live read (states, connections): the static
    rules pass; standby accounts are included because they may become a failover target. Routing
    uses it to check its ledger while the terminals are being read."""
    return [a for a in firm.accounts if _static_reason(firm, a, signal, now, is_simulated) is None]


def eligible_accounts(firm: FirmConfig, signal: TradingSignal, now: datetime, states: Mapping[str, TradingState],
                      connected: Mapping[str, bool], is_simulated: Callable[[str], bool] = lambda _a: False
                      ) -> Eligibility:
    targets: list[Target] = []
    skipped: dict[str, str] = {}
    failover: dict[str, list[str]] = {}
    for account_id, acc in firm.accounts.items():
        reason = _static_reason(firm, account_id, signal, now, is_simulated)
        if reason is None and acc.account_info.standby:
            reason = f"STANDBY: account={account_id}, trades only on failover"
        if reason is not None:
            skipped[account_id] = reason
            continue
        live = _live_reason(account_id, states, connected)
        if live is None:
            targets.append(Target(account_id))
            continue
        skipped[account_id] = live
        backup = firm.backup_for(account_id)
        if backup:
            failover.setdefault(backup, []).append(account_id)
    chosen = {t.account_id for t in targets}
    for backup, primaries in failover.items():
        if backup in chosen:
            continue
        reason = _static_reason(firm, backup, signal, now, is_simulated) or _live_reason(backup, states, connected)
        if reason is None:
            targets.append(Target(backup, tuple(primaries)))
            skipped.pop(backup, None)
        else:
            skipped[backup] = f"FAILOVER_UNAVAILABLE: backup={backup} for {','.join(primaries)}; {reason}"
    return Eligibility(targets, skipped)
