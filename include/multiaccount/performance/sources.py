"""Store glue: the frames the analytics need, read from `multiaccount.store` (thin on purpose).

- snapshots: `store.snapshots.series(since, until)`;
- flows: balance deals (no symbol, side balance) from `store.positions.deals()`: deposits, withdrawals
  and our own transfers, all booked by the broker;
- trades: closed positions from `store.positions.rows()`, with commission from their deals; strategy
  comes from the signal of the order that opened them when the order ledger knows it;
- fills: filled orders from `store.orders.list()` (requested price = order price, fill = fill price).
  The store does not record the spread at fill yet, so spread cost is 0 until it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from multiaccount.config import FirmConfig

BALANCE_SIDES = {"balance", "None", ""}


def _utc(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, utc=True)


def load_frames(store: Any, firm: FirmConfig, since: datetime | None = None,
                until: datetime | None = None) -> dict[str, pd.DataFrame]:
    snapshots = store.snapshots.series(since=since, until=until)
    deals = store.positions.deals(since=since, until=until)
    flow_rows = [(d.at, d.account_id, d.profit) for d in deals if not d.symbol and d.side in BALANCE_SIDES]
    flows = pd.DataFrame(flow_rows, columns=["at", "account_id", "amount"])
    flows["at"] = _utc(flows["at"])
    commission: dict[tuple[str, int | None], float] = {}
    for d in deals:
        if d.symbol:
            key = (d.account_id, d.position_id)
            commission[key] = commission.get(key, 0.0) + d.commission
    orders = store.orders.list(since=since)
    strategy_of_signal: dict[str, str] = {}
    if hasattr(store, "signals") and hasattr(store.signals, "get"):
        for sid in {o.signal_id for o in orders if o.signal_id}:
            sig = store.signals.get(sid)
            if sig is not None:
                strategy_of_signal[sid] = getattr(sig, "strategy", "unknown")
    strategy_of_ticket = {(o.account_id, o.ticket): strategy_of_signal.get(o.signal_id or "", "unknown")
                          for o in orders if o.ticket is not None}
    trade_rows = [(p.account_id, p.symbol, strategy_of_ticket.get((p.account_id, p.ticket), "unknown"), p.opened_at,
                   p.closed_at, p.profit, commission.get((p.account_id, p.ticket), 0.0), p.swap)
                  for p in store.positions.rows(include_closed=True)
                  if not p.is_open and p.closed_at is not None
                  and (since is None or p.closed_at >= since) and (until is None or p.closed_at < until)]
    trades = pd.DataFrame(trade_rows, columns=["account_id", "symbol", "strategy", "opened_at", "closed_at",
                                               "profit", "commission", "swap"])
    for c in ("opened_at", "closed_at"):
        trades[c] = _utc(trades[c])
    fill_rows = []
    for o in orders:
        if o.status not in ("filled", "partial") or o.fill_price is None:
            continue
        acc = firm.accounts.get(o.account_id)
        fill_rows.append((o.account_id, acc.account_info.broker if acc else "", o.symbol, o.side,
                          float(o.filled_volume or o.volume), float(o.price or o.fill_price), float(o.fill_price),
                          0.0, firm.symbol(o.symbol).contract_size if o.symbol in firm.symbols.symbols else 100_000.0,
                          1.0, 0.0, 0.0, o.signal_id))
    fills = pd.DataFrame(fill_rows, columns=["account_id", "broker", "symbol", "side", "volume", "requested_price",
                                             "price", "spread", "contract_size", "quote_to_account", "commission",
                                             "swap", "signal_id"])
    return {"snapshots": snapshots, "flows": flows, "trades": trades, "fills": fills}


def trading_states(store: Any) -> dict[str, str]:
    """Account id -> state name, from the store's trading states (`account:<id>` scopes)."""
    out = {}
    for rec in store.trading_states.all():
        if str(rec.scope).startswith("account:"):
            out[rec.scope.name] = str(rec.state.value if hasattr(rec.state, "value") else rec.state)
    return out
