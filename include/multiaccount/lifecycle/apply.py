"""Apply lifecycle actions through the terminal pool, idempotently and with the broker unflooded.

Closes carry a deterministic client id (rule + ticket + trading day), so a rerun of the end-of-day
procedure or a second monitor tick never closes twice; a partial close cannot halve a position
twice on the same Friday. Trailing-stop modifications are remembered per ticket for the throttle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from multiaccount.config import FirmConfig
from multiaccount.domain import OrderOutcome, OrderStatus, client_order_id
from multiaccount.lifecycle.rules import ActionKind, LifecycleAction
from multiaccount.risk.calendar import trading_date

log = logging.getLogger(__name__)


class PoolLike(Protocol):
    def call(self, account_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        ...


def action_client_id(action: LifecycleAction, now: datetime) -> str:
    return client_order_id(f"lifecycle:{action.code}:{action.ticket}:{trading_date(now).isoformat()}",
                           action.account_id, "close")


@dataclass
class LifecycleApplier:
    """Stateful only for the trailing throttle (`last_trail`) and what was already done today."""

    firm: FirmConfig
    pool: PoolLike
    last_trail: dict[int, datetime] = field(default_factory=dict)
    _done: set[str] = field(default_factory=set)

    def apply(self, actions: Iterable[LifecycleAction], now: datetime) -> list[tuple[LifecycleAction, OrderOutcome]]:
        results = []
        for action in actions:
            outcome = self._apply_one(action, now)
            if outcome is None:
                continue
            results.append((action, outcome))
            log.info("lifecycle %s %s #%s: %s -> %s %s", action.kind, action.account_id, action.ticket,
                     action.reason, outcome.status, outcome.reason)
        return results

    def _apply_one(self, action: LifecycleAction, now: datetime) -> OrderOutcome | None:
        if action.kind is ActionKind.MODIFY:
            outcome = self.pool.call(action.account_id, "modify", action.ticket, action.sl, action.tp)
            if outcome.status in (OrderStatus.FILLED, OrderStatus.PLACED) or outcome.retcode == 10025:
                self.last_trail[action.ticket] = now
            return outcome
        cid = action_client_id(action, now)
        if cid in self._done:
            return None
        deviation = self.firm.accounts[action.account_id].risk_management.max_slippage
        volume = action.volume if action.kind is ActionKind.REDUCE else None
        outcome = self.pool.call(action.account_id, "close", action.ticket, volume, client_id=cid,
                                 deviation=deviation)
        if outcome.status in (OrderStatus.FILLED, OrderStatus.PARTIAL, OrderStatus.DUPLICATE) or \
                outcome.retcode == 10036:  # TRADE_RETCODE_POSITION_CLOSED: already flat
            self._done.add(cid)
            self.last_trail.pop(action.ticket, None)
        return outcome
