"""A deterministic, seeded source of trading signals for the accelerated simulation.

Why seeded by (seed, minute, symbol) instead of a running generator: the same instant always yields
the same signal whatever the step size or how often the driver asked before, so a coarse history run
and a fine run of the same day propose the same trades where their steps coincide, and a rerun of a
simulation reproduces it exactly.

What a signal looks like: a symbol some account specialises in, only while a session of one of
those accounts is open (killzones for HF, sessions for swing and research), a market order with its
stop at a multiple of the symbol's daily range (`stop_multiple`) and the accounts' take-profit ratio,
and a strategy drawn by the firm's summed `strategy_allocation` weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from multiaccount.config import FirmConfig
from multiaccount.domain import Side, TradingSignal
from multiaccount.risk.calendar import fx_market_open, session_open
from multiaccount.risk.market import MarketData


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class SignalPlan:
    """What the generator may trade: symbol -> the sessions of the accounts that cover it."""

    sessions: Mapping[str, tuple[str, ...]]
    strategies: tuple[str, ...]
    weights: tuple[float, ...]

    @classmethod
    def of(cls, firm: FirmConfig) -> SignalPlan:
        sessions: dict[str, set[str]] = {}
        for acc_id, acc in firm.accounts.items():
            if acc.account_info.standby:
                continue
            for symbol in firm.symbols.symbols:
                if firm.covers(acc_id, symbol):
                    sessions.setdefault(symbol, set()).update(acc.trading_config.trading_sessions)
        totals: dict[str, float] = {}
        for acc in firm.accounts.values():
            for name, w in acc.strategy_allocation.items():
                totals[name] = totals.get(name, 0.0) + float(w)
        names = tuple(sorted(n for n, w in totals.items() if w > 0))
        total = sum(totals[n] for n in names) or 1.0
        return cls({s: tuple(sorted(v)) for s, v in sorted(sessions.items())}, names,
                   tuple(totals[n] / total for n in names))


class SignalGenerator:
    """`signals(start, end, market)`: the signals whose minute falls in (start, end]."""

    def __init__(self, firm: FirmConfig, seed: int, *, per_symbol_per_hour: float = 1.0,
                 stop_multiple: float = 0.35, id_prefix: str = "sim"):
        self.firm = firm
        self.seed = int(seed)
        self.rate = per_symbol_per_hour / 60.0  # probability per minute
        self.stop_multiple = stop_multiple
        self.id_prefix = id_prefix
        self.plan = SignalPlan.of(firm)
        self._symbol_keys = {s: _stable(s) % 2**31 for s in self.plan.sessions}
        self._session_names = sorted({n for names in self.plan.sessions.values() for n in names})

    def _open_symbols(self, at: datetime) -> list[str]:
        """Symbols some open session covers; each session is looked up once per minute, not per symbol."""
        if not fx_market_open(at, self.firm.sessions):
            return []
        open_names = {n for n in self._session_names if session_open(self.firm.sessions, n, at)}
        return [s for s, names in self.plan.sessions.items() if not open_names.isdisjoint(names)]

    def _minutes(self, start: datetime, end: datetime) -> list[datetime]:
        first = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
        n = int((end - first).total_seconds() // 60) + 1
        return [first + timedelta(minutes=i) for i in range(max(0, n))]

    def signals(self, start: datetime, end: datetime,
                priced: Callable[[str], MarketData]) -> list[TradingSignal]:
        """Signals for every minute in (start, end], priced off `priced(symbol)` (quotes at `end`)."""
        out: list[TradingSignal] = []
        for minute in self._minutes(start, end):
            symbols = self._open_symbols(minute)
            if not symbols:
                continue
            epoch_minute = int(minute.timestamp() // 60)
            for symbol in symbols:
                rng = np.random.default_rng([self.seed, epoch_minute, self._symbol_keys[symbol]])
                if rng.random() >= self.rate:
                    continue
                out.append(self._signal(symbol, minute, end, rng, priced(symbol)))
        return out

    def _signal(self, symbol: str, minute: datetime, now: datetime, rng: np.random.Generator,
                market: MarketData) -> TradingSignal:
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        strategy = self.plan.strategies[int(rng.choice(len(self.plan.strategies), p=self.plan.weights))]
        multiple = self.stop_multiple * float(rng.uniform(0.75, 1.25))
        bid, ask = market.bid_ask(symbol)
        entry = ask if side is Side.BUY else bid
        digits = self.firm.symbol(symbol).digits
        stop = round(entry - side.sign * market.daily_range(symbol) * multiple, digits)
        return TradingSignal(id=f"{self.id_prefix}{self.seed}-{minute:%Y%m%dT%H%M}-{symbol}", symbol=symbol,
                             side=side, stop=stop, strategy=strategy, created=now,
                             expires=now + timedelta(minutes=5))
