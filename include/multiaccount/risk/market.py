"""Market inputs the risk maths needs: quotes, currency conversion and a volatility estimate.

Pure functions over `FirmConfig.symbols` and a `dict[symbol, (bid, ask)]` of live quotes. Any pair
missing from the live quotes falls back to `symbols.json` reference prices, so a conversion is
always possible for the configured currencies (and a missing quote never makes risk look zero).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from multiaccount.config.models import SymbolsConfig, SymbolSpec

Quotes = Mapping[str, tuple[float, float]]
TRADING_DAYS_PER_YEAR = 252


class UnknownSymbolError(KeyError):
    """A symbol is not configured in symbols.json (programmer/config error: needs a human)."""


@dataclass(frozen=True)
class MarketData:
    """Prices and symbol specs at one instant; converts P&L between currencies."""

    symbols: SymbolsConfig
    quotes: Mapping[str, tuple[float, float]]
    atr: Mapping[str, float] | None = None  # optional measured ATR per symbol (price units)

    @classmethod
    def from_config(cls, symbols: SymbolsConfig, quotes: Quotes | None = None,
                    atr: Mapping[str, float] | None = None) -> MarketData:
        return cls(symbols, dict(quotes or {}), dict(atr) if atr else None)

    def spec(self, symbol: str) -> SymbolSpec:
        try:
            return self.symbols.symbols[symbol]
        except KeyError:
            raise UnknownSymbolError(symbol) from None

    def bid_ask(self, symbol: str) -> tuple[float, float]:
        q = self.quotes.get(symbol)
        if q is not None and _finite_positive(q[0]) and _finite_positive(q[1]):
            return float(q[0]), float(q[1])
        ref = self.symbols.reference_prices.get(symbol)
        if ref is None:
            raise UnknownSymbolError(symbol)
        half = self.spec(symbol).spread_points * self.spec(symbol).point / 2 if symbol in self.symbols.symbols else 0
        return ref - half, ref + half

    def mid(self, symbol: str) -> float:
        bid, ask = self.bid_ask(symbol)
        return (bid + ask) / 2

    @cached_property
    def _pairs(self) -> dict[tuple[str, str], str]:
        return {(s.base, s.quote): name for name, s in self.symbols.symbols.items()}

    def rate(self, ccy_from: str, ccy_to: str) -> float:
        """Units of `ccy_to` per one unit of `ccy_from` (direct, inverse, or via USD)."""
        if ccy_from == ccy_to:
            return 1.0
        direct = self._pairs.get((ccy_from, ccy_to))
        if direct:
            return self.mid(direct)
        inverse = self._pairs.get((ccy_to, ccy_from))
        if inverse:
            return 1.0 / self.mid(inverse)
        if "USD" not in (ccy_from, ccy_to):
            return self.rate(ccy_from, "USD") * self.rate("USD", ccy_to)
        raise UnknownSymbolError(f"no configured pair converts {ccy_from} to {ccy_to}")

    def daily_range(self, symbol: str) -> float:
        """ATR-like daily price move: measured ATR if given, else price x annual vol / sqrt(252)."""
        if self.atr and _finite_positive(self.atr.get(symbol, float("nan"))):
            return float(self.atr[symbol])
        return self.mid(symbol) * self.spec(symbol).annual_volatility / math.sqrt(TRADING_DAYS_PER_YEAR)

    def value_per_price_unit(self, symbol: str, account_ccy: str = "USD") -> float:
        """Account-currency P&L of 1 lot moving 1.0 in price (contract size x quote->account rate)."""
        spec = self.spec(symbol)
        return spec.contract_size * self.rate(spec.quote, account_ccy)


def _finite_positive(x: float) -> bool:
    try:
        return math.isfinite(x) and x > 0
    except TypeError:
        return False
