"""Deterministic, correlated FX prices: a pure function of (seed, symbol, time).

Every process that builds a `Market` with the same seed and symbols sees exactly the same quotes,
which is what lets Airflow tasks, the realtime service and the CLI act on one simulated firm.

Model:
- Each non-USD currency c has a log value X_c = sqrt(rho) * G + sqrt(1 - rho) * W_c against USD,
  where G (global USD factor) and W_c are independent Brownian motions in calendar minutes. A pair's
  log price moves with X_base - X_quote, normalised to its configured annual volatility. So EURUSD and
  GBPUSD correlate at rho, USDJPY anti-correlates with them, and crosses are driven by the
  idiosyncratic parts only.
- Prices equal the configured reference prices at ANCHOR (2026-12-01) and wander from there.
- Random access: daily increments come from blocks seeded by (seed, block); the minutes inside a day
  are a Brownian bridge seeded by (seed, day) that ends exactly on that day's increment. Within a
  minute the price is interpolated linearly. Nothing depends on call order.
- The market is closed from Friday 17:00 to Sunday 17:00 New York (DST-correct through zoneinfo) and
  on configured holidays; while closed the quote stays frozen at the last close, so Sunday's open gaps.
- Spreads widen around news (x4 high impact, x2 medium, for the symbol's currencies) and around the
  17:00 New York rollover (x3 for five minutes either side).
- A scenario price jump adds `sigmas` daily standard deviations (annual_vol / sqrt(252)) to the log
  price from its instant on.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from multiaccount.config.models import NewsCalendar, SymbolsConfig, SymbolSpec

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ANCHOR = datetime(2026, 12, 1, tzinfo=UTC)  # reference prices hold here (the news calendar month)
MINUTES_PER_DAY = 1440
BLOCK_DAYS = 512
YEAR_MINUTES = 365.25 * MINUTES_PER_DAY
NEW_YORK = ZoneInfo("America/New_York")
ROLLOVER = time(17, 0)
DEFAULT_RHO = 0.6
NUMERAIRE = "USD"
CACHE_SIZE = 4096  # memoised quotes / mids / open flags per Market before the memo is emptied


@dataclass(frozen=True)
class PriceJump:
    symbol: str
    at: datetime
    sigmas: float


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: float
    ask: float
    time: datetime
    open: bool

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2


def to_utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError("naive datetime")
    return t.astimezone(UTC)


def is_market_open(t: datetime, holidays: frozenset[date] = frozenset()) -> bool:
    """FX week: Sunday 17:00 to Friday 17:00 New York; holidays (New York dates) closed."""
    ny = to_utc(t).astimezone(NEW_YORK)
    if ny.date() in holidays:
        return False
    wd = ny.weekday()  # Monday 0 ... Sunday 6
    if wd == 5:
        return False
    if wd == 4 and ny.time() >= ROLLOVER:
        return False
    if wd == 6 and ny.time() < ROLLOVER:
        return False
    return True


def last_close(t: datetime, holidays: frozenset[date] = frozenset()) -> datetime:
    """The instant the market last closed at or before `t` (Friday 17:00 NY, or a holiday's midnight)."""
    ny = to_utc(t).astimezone(NEW_YORK)
    if ny.date() in holidays:
        return datetime.combine(ny.date(), time(0), NEW_YORK).astimezone(UTC)
    days_back = (ny.weekday() - 4) % 7
    friday = ny.date() - timedelta(days=days_back)
    close = datetime.combine(friday, ROLLOVER, NEW_YORK)
    if close > ny:
        close = datetime.combine(friday - timedelta(days=7), ROLLOVER, NEW_YORK)
    return close.astimezone(UTC)


def rollovers_between(start: datetime, end: datetime) -> list[datetime]:
    """17:00 New York instants in (start, end] on Monday..Friday (the swap charging instants)."""
    out: list[datetime] = []
    if end <= start:
        return out
    d = to_utc(start).astimezone(NEW_YORK).date()
    last = to_utc(end).astimezone(NEW_YORK).date()
    while d <= last:
        inst = datetime.combine(d, ROLLOVER, NEW_YORK).astimezone(UTC)
        if d.weekday() <= 4 and start < inst <= end:
            out.append(inst)
        d += timedelta(days=1)
    return out


class Market:
    """Quotes for the configured symbols; pure and cached, safe to share between threads."""

    def __init__(self, symbols: SymbolsConfig, news: NewsCalendar | None = None, seed: int = 0,
                 jumps: tuple[PriceJump, ...] = (), holidays: frozenset[date] = frozenset(),
                 rho: float = DEFAULT_RHO):
        self.symbols = symbols
        self.seed = int(seed)
        self.rho = rho
        self.jumps = tuple(jumps)
        self.holidays = holidays
        currencies = sorted({s.base for s in symbols.symbols.values()} | {s.quote for s in symbols.symbols.values()})
        self.factors = [c for c in currencies if c != NUMERAIRE]
        self._index = {c: i for i, c in enumerate(self.factors)}
        self._news = [(to_utc(e.time), e.currency, e.impact) for e in (news.events if news else [])]
        self._news_before = timedelta(minutes=news.window_before_minutes if news else 15)
        self._news_after = timedelta(minutes=news.window_after_minutes if news else 15)
        self._blocks: dict[int, np.ndarray] = {}  # block -> cumulative daily factor levels (BLOCK_DAYS+1, F+1)
        self._days: OrderedDict[int, np.ndarray] = OrderedDict()
        self._paths_lock = threading.RLock()  # the LRU of day paths is reordered and trimmed; the rest are plain dicts
        self._mids: dict[tuple[str, datetime], float] = {}
        self._quotes: dict[tuple[str, datetime], Quote] = {}
        self._open: dict[datetime, bool] = {}
        self._loadings = {name: self._loading(spec) for name, spec in symbols.symbols.items()}
        self._anchor = self._factors_at(ANCHOR)

    # ------------------------------------------------------------ model
    def _loading(self, spec: SymbolSpec) -> np.ndarray:
        """Weights on [G, W_c...] of a pair's log price per sqrt(minute), scaled to its annual vol."""
        n = len(self.factors)
        w = np.zeros(n + 1)
        for ccy, sign in ((spec.base, 1.0), (spec.quote, -1.0)):
            if ccy == NUMERAIRE:
                continue
            w[0] += sign * math.sqrt(self.rho)
            w[1 + self._index[ccy]] += sign * math.sqrt(1.0 - self.rho)
        norm = float(np.sqrt(np.sum(w * w)))
        if norm == 0:
            return w
        return w / norm * spec.annual_volatility / math.sqrt(YEAR_MINUTES)

    def _block(self, b: int) -> np.ndarray:
        cached = self._blocks.get(b)
        if cached is not None:
            return cached
        with self._paths_lock:
            return self._blocks.get(b) if b in self._blocks else self._new_block(b)

    def _new_block(self, b: int) -> np.ndarray:
        start = np.zeros(len(self.factors) + 1) if b == 0 else self._block(b - 1)[-1]
        rng = np.random.default_rng([self.seed, 1, b])
        steps = rng.standard_normal((BLOCK_DAYS, len(self.factors) + 1)) * math.sqrt(MINUTES_PER_DAY)
        levels = np.vstack([start, start + np.cumsum(steps, axis=0)])
        self._blocks[b] = levels
        return levels

    def _day_level(self, day: int) -> np.ndarray:
        b, i = divmod(day, BLOCK_DAYS)
        return self._block(b)[i]

    def _day_path(self, day: int) -> np.ndarray:
        """Factor levels at each minute 0..1440 of `day` (Brownian bridge between daily levels)."""
        with self._paths_lock:
            cached = self._days.get(day)
            if cached is not None:
                self._days.move_to_end(day)
                return cached
            return self._new_day_path(day)

    def _new_day_path(self, day: int) -> np.ndarray:
        start, end = self._day_level(day), self._day_level(day + 1)
        rng = np.random.default_rng([self.seed, 2, day])
        steps = rng.standard_normal((MINUTES_PER_DAY, len(self.factors) + 1))
        walk = np.vstack([np.zeros(len(self.factors) + 1), np.cumsum(steps, axis=0)])
        frac = (np.arange(MINUTES_PER_DAY + 1) / MINUTES_PER_DAY)[:, None]
        path = start + walk - frac * walk[-1] + frac * (end - start)
        self._days[day] = path
        if len(self._days) > 64:
            self._days.popitem(last=False)
        return path

    def _factors_at(self, t: datetime) -> np.ndarray:
        minutes = (to_utc(t) - EPOCH).total_seconds() / 60.0
        if minutes < 0:
            raise ValueError(f"simulated market starts at {EPOCH.isoformat()}")
        day, rest = divmod(minutes, MINUTES_PER_DAY)
        m = int(rest)
        frac = rest - m
        path = self._day_path(int(day))
        return path[m] + (path[m + 1] - path[m]) * frac

    def _jump(self, symbol: str, spec: SymbolSpec, t: datetime) -> float:
        total = 0.0
        for j in self.jumps:
            if j.symbol == symbol and t >= j.at:
                total += j.sigmas * spec.annual_volatility / math.sqrt(252.0)
        return total

    # ------------------------------------------------------------ public
    def spec(self, symbol: str) -> SymbolSpec:
        return self.symbols.symbols[symbol]

    def knows(self, symbol: str) -> bool:
        return symbol in self.symbols.symbols

    def is_open(self, t: datetime) -> bool:
        cached = self._open.get(t)
        if cached is None:
            if len(self._open) > CACHE_SIZE:
                self._open.clear()
            cached = self._open[t] = is_market_open(t, self.holidays)
        return cached

    def price_time(self, t: datetime) -> datetime:
        """The instant whose price is quoted at `t`: `t` itself while open, the last close otherwise."""
        t = to_utc(t)
        return t if self.is_open(t) else last_close(t, self.holidays)

    def mid(self, symbol: str, t: datetime) -> float:
        key = (symbol, t)
        cached = self._mids.get(key)
        if cached is not None:
            return cached
        if len(self._mids) > CACHE_SIZE:
            self._mids.clear()
        value = self._mids[key] = self._mid(symbol, t)
        return value

    def _mid(self, symbol: str, t: datetime) -> float:
        spec = self.spec(symbol)
        pt = self.price_time(t)
        log_price = math.log(self.symbols.reference_prices[symbol]) + float(
            self._loadings[symbol] @ (self._factors_at(pt) - self._anchor)) + self._jump(symbol, spec, pt)
        return math.exp(log_price)

    def spread_multiplier(self, symbol: str, t: datetime) -> float:
        spec = self.spec(symbol)
        t = to_utc(t)
        mult = 1.0
        for at, ccy, impact in self._news:
            if ccy in (spec.base, spec.quote) and at - self._news_before <= t <= at + self._news_after:
                mult = max(mult, 4.0 if impact == "high" else 2.0 if impact == "medium" else 1.0)
        ny = t.astimezone(NEW_YORK)
        roll = datetime.combine(ny.date(), ROLLOVER, NEW_YORK)
        if abs((ny - roll).total_seconds()) <= 300:
            mult = max(mult, 3.0)
        return mult

    def quote(self, symbol: str, t: datetime) -> Quote:
        """Bid/ask at `t`, memoised per (symbol, instant): every order, read and evaluation step asks
        for the same few quotes many times (the request's time is fixed for the whole call)."""
        key = (symbol, t)
        cached = self._quotes.get(key)
        if cached is not None:
            return cached
        if len(self._quotes) > CACHE_SIZE:
            self._quotes.clear()
        value = self._quotes[key] = self._quote(symbol, t)
        return value

    def _quote(self, symbol: str, t: datetime) -> Quote:
        spec = self.spec(symbol)
        t = to_utc(t)
        pt = self.price_time(t)
        mid = self.mid(symbol, t)
        half = spec.spread_points * spec.point * self.spread_multiplier(symbol, pt) / 2.0
        bid = round(mid - half, spec.digits)
        ask = round(mid + half, spec.digits)
        if ask <= bid:
            ask = round(bid + spec.point, spec.digits)
        return Quote(symbol, bid, ask, pt, self.is_open(t))

    def rate(self, ccy_from: str, ccy_to: str, t: datetime) -> float:
        """Conversion factor ccy_from -> ccy_to at mid prices (through USD when no direct pair)."""
        if ccy_from == ccy_to:
            return 1.0
        direct = ccy_from + ccy_to
        if direct in self.symbols.symbols:
            return self.mid(direct, t)
        inverse = ccy_to + ccy_from
        if inverse in self.symbols.symbols:
            return 1.0 / self.mid(inverse, t)
        if NUMERAIRE not in (ccy_from, ccy_to):
            return self.rate(ccy_from, NUMERAIRE, t) * self.rate(NUMERAIRE, ccy_to, t)
        raise KeyError(f"no conversion path {ccy_from}->{ccy_to}")
