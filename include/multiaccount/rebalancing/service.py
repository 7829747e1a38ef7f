"""Store-facing glue for rebalancing: capital from the latest snapshots, plan, execute, confirm."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from multiaccount.config import FirmConfig
from multiaccount.rebalancing.executor import ExecutionReport, confirm_transfer, execute_plan
from multiaccount.rebalancing.ledger import PENDING, StoreTransferLedger, TransferRecord
from multiaccount.rebalancing.model import AccountCapital, RiskReduction, TransferPlan, cents
from multiaccount.rebalancing.planner import plan_emergency, plan_transfers
from multiaccount.rebalancing.targets import account_targets


class NoSnapshotError(Exception):
    """An account has no snapshot: the planner would treat it as empty. Needs a human (or a snapshot)."""


def capital_from_store(store: Any, firm: FirmConfig) -> dict[str, AccountCapital]:
    latest = store.snapshots.latest_states()
    missing = sorted(set(firm.accounts) - set(latest))
    if missing:
        raise NoSnapshotError(f"NO_SNAPSHOT: accounts={','.join(missing)}")
    simulated = simulated_predicate(firm)  # money on a simulated terminal never needs a human to confirm
    return {a: AccountCapital(a, firm.group_of(a), cents(latest[a].balance), cents(latest[a].equity),
                              cents(latest[a].margin), firm.live_trading(a) and not simulated(a))
            for a in firm.accounts}


def pool_by_live(firm: FirmConfig) -> Callable[[str], str]:
    """Live money and paper money never mix."""
    return lambda a: "live" if firm.live_trading(a) else "paper"


def make_plan(store: Any, firm: FirmConfig, plan_key: str, now: datetime, *, force: bool = False,
              reductions: list[RiskReduction] | None = None,
              weights: Mapping[str, Decimal | float] | None = None) -> TransferPlan:
    cap = capital_from_store(store, firm)
    targets = account_targets(firm, cap, weights)
    m = firm.master.master_account
    if reductions is not None:
        return plan_emergency(cap, targets, reductions, plan_key=plan_key, created_at=now,
                              min_transfer=m.min_transfer, margin_buffer=m.transfer_margin_buffer,
                              pool_of=pool_by_live(firm))
    return plan_transfers(cap, targets, plan_key=plan_key, created_at=now, min_transfer=m.min_transfer,
                          margin_buffer=m.transfer_margin_buffer, threshold=m.rebalance_threshold, force=force,
                          pool_of=pool_by_live(firm))


def simulated_predicate(firm: FirmConfig) -> Callable[[str], bool]:
    """Accounts whose terminal is simulated: all with MULTIACCOUNT_BROKER=simulated, else paper accounts."""
    if os.environ.get("MULTIACCOUNT_BROKER", "").lower() == "simulated":
        return lambda a: True
    return lambda a: not firm.live_trading(a)


def execute(store: Any, firm: FirmConfig, plan: TransferPlan, brokers: Mapping[str, Any], now: datetime,
            actor: str = "system", reduce: Callable[[RiskReduction], bool] | None = None) -> ExecutionReport:
    return execute_plan(plan, StoreTransferLedger(store), brokers, simulated_predicate(firm), now, actor, reduce)


def confirm(store: Any, transfer_id: str, actor: str, now: datetime) -> TransferRecord:
    return confirm_transfer(StoreTransferLedger(store), transfer_id, actor, now)


def pending(store: Any) -> list[TransferRecord]:
    return StoreTransferLedger(store).list(status=PENDING)
