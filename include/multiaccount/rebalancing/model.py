"""Value types of rebalancing: account capital, targets, transfers, plans. Money is Decimal (cents)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal | float | int | str, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Exact cents; floats go through `str` so 0.1 stays 0.10."""
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    return dec.quantize(CENT, rounding=rounding)


def transfer_id(plan_key: str, from_account: str, to_account: str) -> str:
    """Deterministic id of a transfer: the same plan key and pair always give the same id.

    19 characters, so it also fits MT5's 31-character deal comment (the idempotency mark of a
    simulated balance operation).
    """
    digest = hashlib.sha256(f"{plan_key}|{from_account}|{to_account}".encode()).hexdigest()[:16]
    return f"tr-{digest}"


@dataclass(frozen=True)
class AccountCapital:
    """An account's money as the planner sees it (from the latest snapshot)."""

    account_id: str
    group: str
    balance: Decimal
    equity: Decimal
    margin: Decimal
    live: bool = False

    def capacity(self, margin_buffer: float) -> Decimal:
        """Most that may leave the account: never below margin x (1 + buffer) of equity, never more
        than the balance (floating profit cannot be withdrawn). Rounded down to the cent."""
        keep = self.margin * (Decimal(1) + Decimal(str(margin_buffer)))
        room = min(self.balance, self.equity - keep)
        return max(Decimal(0), room.quantize(CENT, rounding=ROUND_DOWN))


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    from_account: str
    to_account: str
    amount: Decimal
    live: bool  # either side is a live account: needs a human to confirm

    def as_dict(self) -> dict:
        return {"transfer_id": self.transfer_id, "from_account": self.from_account,
                "to_account": self.to_account, "amount": str(self.amount), "live": self.live}


@dataclass(frozen=True)
class RiskReduction:
    """A caller-chosen risk-reducing action that frees margin before an emergency rebalance."""

    account_id: str
    action: str
    margin_released: Decimal
    position_ticket: int | None = None


@dataclass(frozen=True)
class TransferPlan:
    plan_key: str
    created_at: datetime
    targets: dict[str, Decimal]
    before: dict[str, Decimal]  # equity per account when planned
    transfers: tuple[Transfer, ...]
    drift: dict[str, float]
    max_drift: float
    threshold: float
    needed: bool
    min_transfer: Decimal
    margin_buffer: float
    shortfalls: tuple[str, ...] = ()  # why a target cannot be reached (margin, minimum size)
    reductions: tuple[RiskReduction, ...] = ()
    reason: str = "rebalance"
    extra: dict = field(default_factory=dict)

    def projected(self) -> dict[str, Decimal]:
        """Equity per account after every transfer (flows only; market moves not modelled)."""
        after = dict(self.before)
        for t in self.transfers:
            after[t.from_account] -= t.amount
            after[t.to_account] += t.amount
        return after

    def residuals(self) -> dict[str, Decimal]:
        after = self.projected()
        return {a: after[a] - self.targets[a] for a in self.targets}

    @property
    def total_moved(self) -> Decimal:
        return sum((t.amount for t in self.transfers), Decimal(0))
