"""A simulated MetaTrader 5 terminal: the MetaTrader5 Python API over the simulated market.

`SimulatedTerminal` has the module's functions as methods (initialize, login, account_info,
positions_get, order_check, order_send, history_deals_get, last_error ...) returning the same
namedtuples and retcodes, so `MT5Broker` drives it through exactly the code path it uses for a real
terminal. Like the real API it never raises for bad input: a malformed request returns None with
`last_error() == (-2, ...)`, a refused one an OrderSendResult with the MT5 retcode.

Accounts live in `StateStore` (shared by processes). Time comes from an injectable clock; every call
first *evaluates* the account up to now: swaps at each 17:00 New York rollover (triple on
Wednesday), pending-order activation, SL/TP and the margin stop-out, stepping deterministically over
an absolute grid (1 minute, 5 minutes for gaps over 3 days) so every process reaches the same book.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time as _time
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.simulated import constants as C
from multiaccount.brokers.simulated.market import NEW_YORK, Market, Quote, rollovers_between
from multiaccount.brokers.simulated.scenarios import EMPTY, Scenario
from multiaccount.brokers.simulated.state import Book, StateStore, scenario_path
from multiaccount.config import FirmConfig, load_firm
from multiaccount.config.models import AccountConfig, SymbolSpec
from multiaccount.domain.clock import Clock, utcnow

log = logging.getLogger(__name__)

DEFAULT_SEED = 20261201
SEED_ENV = "MULTIACCOUNT_SIM_SEED"
MAX_COMMENT = 31
MAX_IOC_FILL = 50.0  # lots available at the touch; an IOC order above it fills partially (10010)
MAX_SLIPPAGE_POINTS = 3
SCENARIO_RECHECK_SECONDS = 0.2  # the shared scenario file is re-read at most this often (wall time)
EPS = 1e-9

AccountInfo = namedtuple("AccountInfo", [
    "login", "trade_mode", "leverage", "limit_orders", "margin_so_mode", "trade_allowed", "trade_expert",
    "margin_mode", "currency_digits", "fifo_close", "balance", "credit", "profit", "equity", "margin",
    "margin_free", "margin_level", "margin_so_call", "margin_so_so", "margin_initial", "margin_maintenance",
    "assets", "liabilities", "commission_blocked", "name", "server", "currency", "company"])
TradePosition = namedtuple("TradePosition", [
    "ticket", "time", "time_msc", "time_update", "time_update_msc", "type", "magic", "identifier", "reason",
    "volume", "price_open", "sl", "tp", "price_current", "swap", "profit", "symbol", "comment", "external_id"])
TradeOrder = namedtuple("TradeOrder", [
    "ticket", "time_setup", "time_setup_msc", "time_done", "time_done_msc", "time_expiration", "type",
    "type_time", "type_filling", "state", "magic", "position_id", "position_by_id", "reason", "volume_initial",
    "volume_current", "price_open", "sl", "tp", "price_current", "price_stoplimit", "symbol", "comment",
    "external_id"])
TradeDeal = namedtuple("TradeDeal", [
    "ticket", "order", "time", "time_msc", "type", "entry", "magic", "position_id", "reason", "volume", "price",
    "commission", "swap", "profit", "fee", "symbol", "comment", "external_id"])
TradeRequest = namedtuple("TradeRequest", [
    "action", "magic", "order", "symbol", "volume", "price", "stoplimit", "sl", "tp", "deviation", "type",
    "type_filling", "type_time", "expiration", "comment", "position", "position_by"])
OrderSendResult = namedtuple("OrderSendResult", [
    "retcode", "deal", "order", "volume", "price", "bid", "ask", "comment", "request_id", "retcode_external",
    "request"])
OrderCheckResult = namedtuple("OrderCheckResult", [
    "retcode", "balance", "equity", "profit", "margin", "margin_free", "margin_level", "comment", "request"])
SymbolInfo = namedtuple("SymbolInfo", [
    "name", "digits", "spread", "spread_float", "point", "trade_mode", "trade_stops_level", "trade_freeze_level",
    "trade_exemode", "swap_mode", "swap_rollover3days", "filling_mode", "order_mode", "bid", "ask",
    "trade_tick_value", "trade_tick_value_profit", "trade_tick_value_loss", "trade_tick_size",
    "trade_contract_size", "volume_min", "volume_max", "volume_step", "volume_limit", "swap_long", "swap_short",
    "margin_hedged", "currency_base", "currency_profit", "currency_margin", "path", "visible", "select"])
Tick = namedtuple("Tick", ["time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real"])
TerminalInfo = namedtuple("TerminalInfo", [
    "community_account", "connected", "trade_allowed", "tradeapi_disabled", "name", "company", "path", "build"])

REQUEST_FIELDS = TradeRequest._fields
_NUMERIC = ("volume", "price", "stoplimit", "sl", "tp")
_INTEGER = ("action", "magic", "order", "deviation", "type", "type_filling", "type_time", "expiration",
            "position", "position_by")

_firm_cache: dict[str, FirmConfig] = {}
_firm_lock = threading.Lock()


def _default_firm() -> FirmConfig:
    from multiaccount.config import default_config_dir

    key = str(default_config_dir())
    with _firm_lock:
        if key not in _firm_cache:
            _firm_cache[key] = load_firm(key)
        return _firm_cache[key]


def default_seed() -> int:
    return int(os.environ.get(SEED_ENV, DEFAULT_SEED))


def _ts(t: datetime) -> float:
    return t.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _round_step(volume: float, step: float) -> bool:
    return abs(round(volume / step) * step - volume) < 1e-7


def _as_ts(x: datetime | int | float | None, default: float) -> float:
    if x is None:
        return default
    return x.timestamp() if isinstance(x, datetime) else float(x)


def _trade_deal(d: dict[str, Any]) -> TradeDeal:
    return TradeDeal(d["ticket"], d["order"], int(d["time"]), int(d["time"] * 1000), d["type"], d["entry"], d["magic"],
                     d["position_id"], d["reason"], d["volume"], d["price"], d["commission"], d["swap"], d["profit"],
                     d["fee"], d["symbol"], d["comment"], "")


class _Refusal(Exception):
    """Internal: a request refused with an MT5 retcode (never escapes the terminal)."""

    def __init__(self, retcode: int, comment: str):
        self.retcode = retcode
        self.comment = comment



_MARKETS: dict[tuple, tuple[FirmConfig, Market]] = {}  # the firm is held so its id is not reused
_MARKETS_LOCK = threading.Lock()


def _shared_market(firm: FirmConfig, seed: int, jumps: tuple) -> Market:
    """One `Market` per (firm, seed, price jumps) in the process: the terminals of a thread pool quote the
    same prices, so each new day's price path is built once, not once per terminal."""
    key = (seed, jumps, id(firm))
    with _MARKETS_LOCK:
        entry = _MARKETS.get(key)
        if entry is None or entry[0] is not firm:
            holidays = frozenset(date.fromisoformat(h) for h in firm.sessions.holidays)
            entry = (firm, Market(firm.symbols, firm.news, seed=seed, jumps=jumps, holidays=holidays))
            if len(_MARKETS) >= 8:  # scenarios change rarely; keep a few, never grow without bound
                _MARKETS.pop(next(iter(_MARKETS)))
            _MARKETS[key] = entry
        return entry[1]


class SimulatedTerminal:
    """One simulated terminal process: at most one logged-in account at a time, like MT5."""

    def __init__(self, firm: FirmConfig | None = None, *, seed: int | None = None, scenario: Scenario | None = None,
                 clock: Clock | None = None, store: StateStore | None = None):
        self._firm = firm
        self._seed = seed
        self._explicit_scenario = scenario
        self._clock = clock
        self._pinned: datetime | None = None
        self._store = store or StateStore()
        self._login: int | None = None
        self._account: AccountConfig | None = None
        self._initialized = False
        self._last_error: tuple[int, str] = (rc.RES_S_OK, "Success")
        self._request_id = 0
        self._market_for: tuple[Scenario, int, Market] | None = None
        self._scenario_cache: tuple[tuple[int, int] | None, Scenario] = (None, EMPTY)
        self._scenario_checked = -1e9
        self._lock = threading.RLock()

    # ------------------------------------------------------------ configuration (simulation only)
    @property
    def firm(self) -> FirmConfig:
        if self._firm is None:
            self._firm = _default_firm()
        return self._firm

    @property
    def seed(self) -> int:
        return self._seed if self._seed is not None else default_seed()

    def configure(self, firm: FirmConfig | None = None, seed: int | None = None, scenario: Scenario | None = None,
                  clock: Clock | None = None) -> None:
        if firm is not None:
            self._firm = firm
        if seed is not None:
            self._seed = seed
        if scenario is not None:
            self._explicit_scenario = scenario
        if clock is not None:
            self._clock = clock

    def set_clock(self, clock: Clock | None) -> None:
        self._clock = clock

    def set_time(self, when: datetime | str | None) -> None:
        """Pin the terminal's time (the pool and the rpyc bridge pass the caller's clock this way)."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when)
        self._pinned = when.astimezone(UTC) if when is not None else None

    def now(self) -> datetime:
        if self._pinned is not None:
            return self._pinned
        return self._clock.now() if self._clock is not None else utcnow()

    def scenario(self) -> Scenario:
        if self._explicit_scenario is not None:
            return self._explicit_scenario
        mono = _time.monotonic()
        if mono - self._scenario_checked < SCENARIO_RECHECK_SECONDS:
            return self._scenario_cache[1]
        self._scenario_checked = mono
        path = scenario_path()
        try:
            st = path.stat()
            sig = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            self._scenario_cache = (None, EMPTY)
            return EMPTY
        if self._scenario_cache[0] != sig:
            try:
                self._scenario_cache = (sig, Scenario.load(path))
            except (OSError, ValueError) as exc:
                log.error("sim scenario %s unreadable: %s", path, exc)
                self._scenario_cache = (sig, EMPTY)
        return self._scenario_cache[1]

    def market(self) -> Market:
        scenario = self.scenario()
        if self._market_for is not None and self._market_for[0] is scenario and self._market_for[1] == self.seed:
            return self._market_for[2]
        m = _shared_market(self.firm, self.seed, scenario.jumps())
        self._market_for = (scenario, self.seed, m)
        return m

    # ------------------------------------------------------------ connection
    def _fail(self, code: int, message: str) -> None:
        self._last_error = (code, message)

    def last_error(self) -> tuple[int, str]:
        return self._last_error

    def version(self) -> tuple[int, int, str]:
        return (500, 4755, "01 Dec 2026")

    def _account_for(self, login: int | None, password: str | None, server: str | None) -> AccountConfig | None:
        for acc in self.firm.accounts.values():
            info = acc.account_info
            if info.mt5_login != login:
                continue
            if server and server != info.mt5_server:
                return None
            expected = os.environ.get(info.password_env)
            if expected and password != expected:
                return None
            return acc
        return None

    def _ipc_down(self) -> bool:
        account_id = self._account.account_id if self._account else None
        event = self.scenario().disconnect(account_id, self.now())
        return event is not None and event.mode == "ipc"

    def initialize(self, path: str | None = None, *, login: int | None = None, password: str | None = None,
                   server: str | None = None, timeout: int | None = None, portable: bool = False) -> bool:
        with self._lock:
            if login is not None and self.scenario().disconnect(self._lookup_id(login), self.now()) is not None:
                self._fail(rc.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
                return False
            self._initialized = True
            if login is None:
                self._fail(rc.RES_S_OK, "Success")
                return True
            return self.login(login, password=password, server=server, timeout=timeout)

    def _lookup_id(self, login: int) -> str | None:
        for acc in self.firm.accounts.values():
            if acc.account_info.mt5_login == login:
                return acc.account_id
        return None

    def login(self, login: int, password: str | None = None, server: str | None = None,
              timeout: int | None = None) -> bool:
        with self._lock:
            if not self._initialized:
                self._fail(rc.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
                return False
            if self.scenario().disconnect(self._lookup_id(login), self.now()) is not None:
                self._fail(rc.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
                return False
            acc = self._account_for(login, password, server)
            if acc is None:
                self._fail(rc.RES_E_AUTH_FAILED, "Authorization failed")
                return False
            self._login, self._account = login, acc
            self._fail(rc.RES_S_OK, "Success")
            return True

    def shutdown(self) -> None:
        with self._lock:
            self._initialized = False
            self._login = self._account = None

    def _ready(self) -> bool:
        if not self._initialized or self._account is None:
            self._fail(rc.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
            return False
        if self._ipc_down():
            self._fail(rc.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
            return False
        self._fail(rc.RES_S_OK, "Success")
        return True

    def terminal_info(self) -> TerminalInfo | None:
        if not self._initialized:
            self._fail(rc.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
            return None
        account_id = self._account.account_id if self._account else None
        connected = self.scenario().disconnect(account_id, self.now()) is None
        return TerminalInfo(False, connected, True, False, "Simulated MetaTrader 5", "multiaccount", "sim", 4755)

    # ------------------------------------------------------------ book access
    def _fresh(self) -> Book:
        assert self._account is not None and self._login is not None
        info = self._account.account_info
        return Book(login=self._login, account_id=info.account_id, currency=info.base_currency,
                    leverage=self.firm.symbols.leverage, balance=float(info.initial_balance),
                    server=info.mt5_server, name=info.account_id)

    @contextmanager
    def _book(self) -> Iterator[tuple[Book, datetime]]:
        assert self._login is not None
        now = self.now()
        with self._store.transaction(self._login, self._fresh) as book:
            self._evaluate(book, now)
            yield book, now

    # ------------------------------------------------------------ money maths
    def _spec(self, symbol: str) -> SymbolSpec:
        return self.firm.symbols.symbols[symbol]

    def _profit(self, book: Book, symbol: str, ptype: int, volume: float, price_open: float, price_close: float,
                t: datetime) -> float:
        spec = self._spec(symbol)
        sign = 1.0 if ptype == C.POSITION_TYPE_BUY else -1.0
        quote_ccy = (price_close - price_open) * sign * volume * spec.contract_size
        return quote_ccy * self.market().rate(spec.quote, book.currency, t)

    def _margin_of(self, book: Book, symbol: str, volume: float, t: datetime) -> float:
        spec = self._spec(symbol)
        return volume * spec.contract_size * self.market().rate(spec.base, book.currency, t) / book.leverage

    def _commission(self, book: Book, volume: float, t: datetime, symbol: str) -> float:
        """Half the configured round-turn commission per lot on each deal (USD, converted)."""
        per_side = self._spec(symbol).commission_per_lot / 2.0 * volume
        return -round(per_side * self.market().rate("USD", book.currency, t), 2)

    def _close_price(self, q: Quote, ptype: int) -> float:
        return q.bid if ptype == C.POSITION_TYPE_BUY else q.ask

    def _position_view(self, book: Book, p: dict[str, Any], t: datetime, quotes: dict[str, Quote]) -> tuple[float, float]:
        q = quotes.get(p["symbol"]) or quotes.setdefault(p["symbol"], self.market().quote(p["symbol"], t))
        cur = self._close_price(q, p["type"])
        return cur, round(self._profit(book, p["symbol"], p["type"], p["volume"], p["price_open"], cur, t), 2)

    def _totals(self, book: Book, t: datetime) -> tuple[float, float, float]:
        """(floating profit incl. swap, margin, equity).

        On every order and read: the quote and both conversion rates are fetched once per symbol,
        not per position; the arithmetic is `_profit` / `_margin_of`'s, in the same order."""
        market = self.market()
        per_symbol: dict[str, tuple[SymbolSpec, Quote, float, float]] = {}
        profit = margin = 0.0
        for p in book.positions:
            symbol = p["symbol"]
            known = per_symbol.get(symbol)
            if known is None:
                spec = self._spec(symbol)
                known = per_symbol[symbol] = (spec, market.quote(symbol, t), market.rate(spec.quote, book.currency, t),
                                              market.rate(spec.base, book.currency, t))
            spec, q, quote_rate, base_rate = known
            buy = p["type"] == C.POSITION_TYPE_BUY
            cur, sign = (q.bid, 1.0) if buy else (q.ask, -1.0)
            profit += round((cur - p["price_open"]) * sign * p["volume"] * spec.contract_size * quote_rate, 2) + p["swap"]
            margin += p["volume"] * spec.contract_size * base_rate / book.leverage
        equity = book.balance + book.credit + profit
        return profit, margin, equity

    # ------------------------------------------------------------ booking
    def _deal(self, book: Book, t: datetime, *, order: int, dtype: int, entry: int, magic: int, position_id: int,
              reason: int, volume: float, price: float, commission: float, swap: float, profit: float, symbol: str,
              comment: str) -> dict[str, Any]:
        deal = {"ticket": book.ticket(), "order": order, "time": _ts(t), "type": dtype, "entry": entry,
                "magic": magic, "position_id": position_id, "reason": reason, "volume": volume, "price": price,
                "commission": commission, "swap": round(swap, 2), "profit": round(profit, 2), "fee": 0.0,
                "symbol": symbol, "comment": comment}
        book.add_deal(deal)
        book.balance = round(book.balance + deal["profit"] + deal["swap"] + commission, 2)
        return deal

    def _open(self, book: Book, t: datetime, symbol: str, ptype: int, volume: float, price: float, sl: float,
              tp: float, magic: int, comment: str, order: int | None = None, reason: int = C.DEAL_REASON_EXPERT
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        order = order or book.ticket()
        deal = self._deal(book, t, order=order, dtype=ptype, entry=C.DEAL_ENTRY_IN, magic=magic, position_id=order,
                          reason=reason, volume=volume, price=price,
                          commission=self._commission(book, volume, t, symbol), swap=0.0, profit=0.0,
                          symbol=symbol, comment=comment)
        pos = {"ticket": order, "time": _ts(t), "time_update": _ts(t), "type": ptype, "magic": magic,
               "identifier": order, "reason": reason, "volume": volume, "price_open": price, "sl": sl, "tp": tp,
               "swap": 0.0, "symbol": symbol, "comment": comment}
        book.positions.append(pos)
        return deal, pos

    def _close(self, book: Book, t: datetime, pos: dict[str, Any], volume: float, price: float, reason: int,
               comment: str, order: int | None = None, magic: int | None = None) -> dict[str, Any]:
        volume = min(volume, pos["volume"])
        share = volume / pos["volume"]
        swap = pos["swap"] * share
        profit = self._profit(book, pos["symbol"], pos["type"], volume, pos["price_open"], price, t)
        deal = self._deal(book, t, order=order or book.ticket(), dtype=1 - pos["type"], entry=C.DEAL_ENTRY_OUT,
                          magic=pos["magic"] if magic is None else magic, position_id=pos["identifier"],
                          reason=reason, volume=volume, price=price,
                          commission=self._commission(book, volume, t, pos["symbol"]), swap=swap, profit=profit,
                          symbol=pos["symbol"], comment=comment)
        remaining = round(pos["volume"] - volume, 8)
        if remaining <= EPS:
            book.positions.remove(pos)
        else:
            pos["volume"] = remaining
            pos["swap"] = round(pos["swap"] - deal["swap"], 2)
            pos["time_update"] = _ts(t)
        return deal

    # ------------------------------------------------------------ time-driven evaluation
    def _evaluate(self, book: Book, now: datetime) -> None:
        ts = _ts(now)
        last = book.last_eval
        if last is None:
            book.last_eval, book.dirty = ts, True
            return
        if ts <= last:
            return
        if not book.positions and not book.orders:
            book.last_eval = ts  # nothing time-dependent to evaluate; not worth a write
            return
        step = 60.0 if ts - last <= 3 * 86400 else 300.0
        grid = [g * step for g in range(int(last // step) + 1, int(ts // step) + 1)]
        if not grid or grid[-1] < ts:
            grid.append(ts)
        rolls = [_ts(r) for r in rollovers_between(_dt(last), now)]
        market = self.market()
        ri = 0
        for g in grid:
            while ri < len(rolls) and rolls[ri] <= g:
                self._rollover(book, _dt(rolls[ri]))
                ri += 1
            t = _dt(g)
            if market.is_open(t) and (book.positions or book.orders):
                self._tick(book, t)
        book.last_eval, book.dirty = ts, True

    def _rollover(self, book: Book, at: datetime) -> None:
        triple = at.astimezone(NEW_YORK).weekday() == 2
        for p in book.positions:
            if p["time"] >= _ts(at):
                continue
            spec = self._spec(p["symbol"])
            points = spec.swap_long if p["type"] == C.POSITION_TYPE_BUY else spec.swap_short
            money = points * spec.point * spec.contract_size * p["volume"] * (3 if triple else 1)
            p["swap"] = round(p["swap"] + money * self.market().rate(spec.quote, book.currency, at), 2)
        book.dirty = True

    def _tick(self, book: Book, t: datetime) -> None:
        market = self.market()
        quotes = {s: market.quote(s, t) for s in {x["symbol"] for x in book.positions + book.orders}}
        for o in list(book.orders):
            self._maybe_activate(book, o, quotes[o["symbol"]], t)
        for p in list(book.positions):
            q = quotes.get(p["symbol"]) or market.quote(p["symbol"], t)
            cur = self._close_price(q, p["type"])
            buy = p["type"] == C.POSITION_TYPE_BUY
            if p["sl"] and (cur <= p["sl"] if buy else cur >= p["sl"]):
                fill = min(cur, p["sl"]) if buy else max(cur, p["sl"])  # a gap fills worse than the stop
                self._close(book, t, p, p["volume"], fill, C.DEAL_REASON_SL, f"[sl {p['sl']}]")
            elif p["tp"] and (cur >= p["tp"] if buy else cur <= p["tp"]):
                self._close(book, t, p, p["volume"], p["tp"], C.DEAL_REASON_TP, f"[tp {p['tp']}]")
        self._stop_out(book, t)

    def _stop_out(self, book: Book, t: datetime) -> None:
        while book.positions:
            _, margin, equity = self._totals(book, t)
            if margin <= 0 or equity / margin * 100.0 >= book.margin_so_so:
                return
            quotes: dict[str, Quote] = {}
            worst = min(book.positions, key=lambda p: self._position_view(book, p, t, quotes)[1])
            cur, _ = self._position_view(book, worst, t, quotes)
            level = equity / margin * 100.0
            log.warning("sim stop-out account=%s level=%.1f%% closing ticket=%s", book.account_id, level,
                        worst["ticket"])
            self._close(book, t, worst, worst["volume"], cur, C.DEAL_REASON_SO, f"[so {level:.1f}%]")

    def _maybe_activate(self, book: Book, o: dict[str, Any], q: Quote, t: datetime) -> None:
        otype, price = o["type"], o["price_open"]
        hit = {C.ORDER_TYPE_BUY_LIMIT: q.ask <= price, C.ORDER_TYPE_SELL_LIMIT: q.bid >= price,
               C.ORDER_TYPE_BUY_STOP: q.ask >= price, C.ORDER_TYPE_SELL_STOP: q.bid <= price}.get(otype, False)
        if not hit:
            return
        ptype = C.POSITION_TYPE_BUY if otype in (C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_BUY_STOP) else C.POSITION_TYPE_SELL
        fill = q.ask if ptype == C.POSITION_TYPE_BUY else q.bid
        if otype in (C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_SELL_LIMIT):
            fill = price  # a limit fills at its price or better; the conservative choice is its price
        book.orders.remove(o)
        _, margin, equity = self._totals(book, t)
        if equity - margin - self._margin_of(book, o["symbol"], o["volume_current"], t) < 0:
            log.info("sim pending order %s canceled: no money", o["ticket"])
            book.dirty = True
            return
        self._open(book, t, o["symbol"], ptype, o["volume_current"], fill, o["sl"], o["tp"], o["magic"],
                   o["comment"], order=o["ticket"])

    # ------------------------------------------------------------ reads
    def account_info(self) -> AccountInfo | None:
        with self._lock:
            if not self._ready():
                return None
            with self._book() as (book, now):
                profit, margin, equity = self._totals(book, now)
                level = equity / margin * 100.0 if margin > 0 else 0.0
                return AccountInfo(book.login, C.ACCOUNT_TRADE_MODE_DEMO, book.leverage, 200,
                                   C.ACCOUNT_STOPOUT_MODE_PERCENT, True, True, C.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
                                   2, False, book.balance, book.credit, round(profit, 2), round(equity, 2),
                                   round(margin, 2), round(equity - margin, 2), round(level, 2), book.margin_so_call,
                                   book.margin_so_so, 0.0, 0.0, 0.0, 0.0, 0.0, book.name, book.server, book.currency,
                                   "multiaccount simulated broker")

    def _symbol_info(self, symbol: str, t: datetime) -> SymbolInfo:
        spec = self._spec(symbol)
        q = self.market().quote(symbol, t)
        account_ccy = self._account.account_info.base_currency if self._account else "USD"
        tick_value = spec.contract_size * spec.point * self.market().rate(spec.quote, account_ccy, t)
        return SymbolInfo(symbol, spec.digits, round((q.ask - q.bid) / spec.point), True, spec.point, 4,
                          spec.trade_stops_level, 0, C.SYMBOL_TRADE_EXECUTION_MARKET, C.SYMBOL_SWAP_MODE_POINTS,
                          C.DAY_OF_WEEK_WEDNESDAY, C.SYMBOL_FILLING_FOK | C.SYMBOL_FILLING_IOC, 127, q.bid, q.ask,
                          tick_value, tick_value, tick_value, spec.point, spec.contract_size, spec.volume_min,
                          spec.volume_max, spec.volume_step, 0.0, spec.swap_long, spec.swap_short,
                          spec.contract_size / 2, spec.base, spec.quote, spec.base, f"Forex\\{symbol}", True, True)

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        with self._lock:
            if not self._ready():
                return None
            if not isinstance(symbol, str) or not self.market().knows(symbol):
                self._fail(rc.RES_E_NOT_FOUND, "Terminal: Not found")
                return None
            return self._symbol_info(symbol, self.now())

    def symbols_total(self) -> int:
        return len(self.firm.symbols.symbols)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        with self._lock:
            if not self._ready():
                return None
            now = self.now()
            return tuple(self._symbol_info(s, now) for s in self.firm.symbols.symbols
                         if group is None or group.strip("*") in s)

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        return self._ready() and self.market().knows(symbol)

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        with self._lock:
            if not self._ready():
                return None
            if not isinstance(symbol, str) or not self.market().knows(symbol):
                self._fail(rc.RES_E_NOT_FOUND, "Terminal: Not found")
                return None
            q = self.market().quote(symbol, self.now())
            ts = _ts(q.time)
            return Tick(int(ts), q.bid, q.ask, 0.0, 0, int(ts * 1000), 6, 0.0)

    def _trade_position(self, book: Book, p: dict[str, Any], now: datetime,
                        quotes: dict[str, Quote]) -> TradePosition:
        cur, profit = self._position_view(book, p, now, quotes)
        return TradePosition(p["ticket"], int(p["time"]), int(p["time"] * 1000), int(p["time_update"]),
                             int(p["time_update"] * 1000), p["type"], p["magic"], p["identifier"], p["reason"],
                             p["volume"], p["price_open"], p["sl"], p["tp"], cur, p["swap"], profit, p["symbol"],
                             p["comment"], "")

    def _trade_order(self, o: dict[str, Any], now: datetime) -> TradeOrder:
        q = self.market().quote(o["symbol"], now)
        cur = q.ask if o["type"] in (C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_BUY_STOP) else q.bid
        return TradeOrder(o["ticket"], int(o["time_setup"]), int(o["time_setup"] * 1000), 0, 0,
                          o.get("expiration", 0), o["type"], o["type_time"], o["type_filling"], C.ORDER_STATE_PLACED,
                          o["magic"], 0, 0, C.DEAL_REASON_EXPERT, o["volume_initial"], o["volume_current"],
                          o["price_open"], o["sl"], o["tp"], cur, 0.0, o["symbol"], o["comment"], "")

    def positions_total(self) -> int | None:
        p = self.positions_get()
        return None if p is None else len(p)

    def positions_get(self, symbol: str | None = None, group: str | None = None,
                      ticket: int | None = None) -> tuple[TradePosition, ...] | None:
        with self._lock:
            if not self._ready():
                return None
            with self._book() as (book, now):
                quotes: dict[str, Quote] = {}
                out = []
                for p in book.positions:
                    if (symbol and p["symbol"] != symbol) or (ticket and p["ticket"] != ticket):
                        continue
                    if group and group.strip("*") not in p["symbol"]:
                        continue
                    out.append(self._trade_position(book, p, now, quotes))
                return tuple(out)

    def orders_total(self) -> int | None:
        o = self.orders_get()
        return None if o is None else len(o)

    def orders_get(self, symbol: str | None = None, group: str | None = None,
                   ticket: int | None = None) -> tuple[TradeOrder, ...] | None:
        with self._lock:
            if not self._ready():
                return None
            with self._book() as (book, now):
                out = []
                for o in book.orders:
                    if (symbol and o["symbol"] != symbol) or (ticket and o["ticket"] != ticket):
                        continue
                    out.append(self._trade_order(o, now))
                return tuple(out)

    def history_deals_get(self, date_from: datetime | int | None = None, date_to: datetime | int | None = None,
                          group: str | None = None, ticket: int | None = None,
                          position: int | None = None) -> tuple[TradeDeal, ...] | None:
        with self._lock:
            if not self._ready():
                return None

            lo, hi = _as_ts(date_from, float("-inf")), _as_ts(date_to, float("inf"))
            with self._book() as (book, _now):
                out = []
                for d in book.deals:
                    if ticket is not None:
                        if d["ticket"] != ticket:
                            continue
                    elif position is not None:
                        if d["position_id"] != position:
                            continue
                    elif not lo <= d["time"] <= hi:
                        continue
                    if group and group.strip("*") not in d["symbol"]:
                        continue
                    out.append(_trade_deal(d))
                return tuple(out)

    def client_order_lookup(self, comment: str, date_from: datetime | int | None = None,
                            date_to: datetime | int | None = None
                            ) -> tuple[tuple[TradePosition, ...], tuple[TradeOrder, ...], tuple[TradeDeal, ...]] | None:
        """Open positions, pending orders and deals (in the date range) whose comment is `comment`.

        Not part of the real API: the simulated trade server's index by client order id (the MT5
        comment), so `MT5Broker`'s idempotency check is one call instead of three scans
        (positions_get, orders_get, 30 days of history_deals_get). Same records, same order."""
        with self._lock:
            if not self._ready():
                return None
            if not isinstance(comment, str):
                self._fail(rc.RES_E_INVALID_PARAMS, "Invalid 'comment' argument")
                return None
            lo, hi = _as_ts(date_from, float("-inf")), _as_ts(date_to, float("inf"))
            with self._book() as (book, now):
                quotes: dict[str, Quote] = {}
                positions = tuple(self._trade_position(book, p, now, quotes) for p in book.positions
                                  if p["comment"] == comment)
                orders = tuple(self._trade_order(o, now) for o in book.orders if o["comment"] == comment)
                deals = tuple(_trade_deal(d) for d in book.deals_with_comment(comment) if lo <= d["time"] <= hi)
                return positions, orders, deals

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None:
        with self._lock:
            if not self._ready() or not self.market().knows(symbol):
                return None
            with self._book() as (book, now):
                return round(self._margin_of(book, symbol, volume, now), 2)

    def order_calc_profit(self, action: int, symbol: str, volume: float, price_open: float,
                          price_close: float) -> float | None:
        with self._lock:
            if not self._ready() or not self.market().knows(symbol):
                return None
            with self._book() as (book, now):
                return round(self._profit(book, symbol, action, volume, price_open, price_close, now), 2)

    # ------------------------------------------------------------ trading
    def _parse(self, request: Any) -> TradeRequest | None:
        if not isinstance(request, dict):
            self._fail(rc.RES_E_INVALID_PARAMS, "Invalid 'request' argument")
            return None
        values: dict[str, Any] = dict.fromkeys(REQUEST_FIELDS, 0)
        values["symbol"] = values["comment"] = ""
        for key, value in request.items():
            if key not in values:
                self._fail(rc.RES_E_INVALID_PARAMS, f"Invalid '{key}' argument")
                return None
            if key in _NUMERIC and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
                self._fail(rc.RES_E_INVALID_PARAMS, f"Invalid '{key}' argument")
                return None
            if key in _INTEGER and not (isinstance(value, int) and not isinstance(value, bool)):
                self._fail(rc.RES_E_INVALID_PARAMS, f"Invalid '{key}' argument")
                return None
            if key in ("symbol", "comment") and not isinstance(value, str):
                self._fail(rc.RES_E_INVALID_PARAMS, f"Invalid '{key}' argument")
                return None
            values[key] = value
        if len(values["comment"]) > MAX_COMMENT:
            self._fail(rc.RES_E_INVALID_PARAMS, "Invalid 'comment' argument")
            return None
        for key in _NUMERIC:
            values[key] = float(values[key])
        return TradeRequest(**values)

    def _result(self, retcode: int, req: TradeRequest, comment: str, *, deal: int = 0, order: int = 0,
                volume: float = 0.0, price: float = 0.0, quote: Quote | None = None) -> OrderSendResult:
        self._request_id += 1
        return OrderSendResult(retcode, deal, order, volume, price, quote.bid if quote else 0.0,
                               quote.ask if quote else 0.0, comment, self._request_id, 0, req)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        req = self._parse(request)
        if req is None or not self._ready():
            return None
        scenario = self.scenario()
        now = self.now()
        delay = scenario.latency_ms(now)
        if delay:
            _time.sleep(delay / 1000.0)  # the wire and the server take time; the pool benchmark measures this
        with self._lock:
            if not self._ready():
                return None
            account_id = self._account.account_id if self._account else None
            cut = scenario.disconnect(account_id, now)
            if cut is not None:
                return self._result(rc.CONNECTION, req, "No connection with the trade server")
            lost = scenario.timeout(account_id, now)
            if lost is not None and not lost.executed:
                return self._result(rc.TIMEOUT, req, "Request canceled by timeout")
            with self._book() as (book, t):
                result = self._execute(book, req, t, scenario)
            if lost is not None:
                log.info("sim timeout scenario: executed retcode=%s but the answer is lost", result.retcode)
                return self._result(rc.TIMEOUT, req, "Request canceled by timeout")
            return result

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        req = self._parse(request)
        if req is None:
            return None
        with self._lock:
            if not self._ready():
                return None
            with self._book() as (book, t):
                profit, margin, equity = self._totals(book, t)
                extra = 0.0
                try:
                    self._validate(book, req, t, self.scenario(), check_only=True)
                    if req.action == C.TRADE_ACTION_DEAL and not req.position:
                        extra = self._margin_of(book, req.symbol, req.volume, t)
                    code, comment = 0, "Done"
                except _Refusal as refusal:
                    code, comment = refusal.retcode, refusal.comment
                m = margin + extra
                free = equity - m
                level = equity / m * 100.0 if m > 0 else 0.0
                return OrderCheckResult(code, book.balance, round(equity, 2), round(profit, 2), round(m, 2),
                                        round(free, 2), round(level, 2), comment, req)

    def _execute(self, book: Book, req: TradeRequest, t: datetime, scenario: Scenario) -> OrderSendResult:
        try:
            plan = self._validate(book, req, t, scenario, check_only=False)
        except _Refusal as refusal:
            quote = self.market().quote(req.symbol, t) if self.market().knows(req.symbol) else None
            log.info("sim refused account=%s action=%s retcode=%s %s", book.account_id, req.action, refusal.retcode,
                     refusal.comment)
            return self._result(refusal.retcode, req, refusal.comment, quote=quote)
        return plan()

    def _validate(self, book: Book, req: TradeRequest, t: datetime, scenario: Scenario, check_only: bool):
        """Raise _Refusal with the MT5 retcode, or return a thunk that executes the request."""
        action = req.action
        if action == C.TRADE_ACTION_DEAL:
            return self._validate_deal(book, req, t, scenario)
        if action == C.TRADE_ACTION_PENDING:
            return self._validate_pending(book, req, t)
        if action == C.TRADE_ACTION_SLTP:
            return self._validate_sltp(book, req, t)
        if action == C.TRADE_ACTION_MODIFY:
            return self._validate_modify(book, req, t)
        if action == C.TRADE_ACTION_REMOVE:
            return self._validate_remove(book, req, t)
        raise _Refusal(rc.INVALID, "Invalid request: unsupported action")

    # -- shared checks
    def _check_symbol(self, symbol: str) -> SymbolSpec:
        if not self.market().knows(symbol):
            raise _Refusal(rc.INVALID, f"Invalid request: unknown symbol '{symbol}'")
        return self._spec(symbol)

    def _check_open(self, t: datetime) -> None:
        if not self.market().is_open(t):
            raise _Refusal(rc.MARKET_CLOSED, "Market closed")

    def _check_volume(self, spec: SymbolSpec, volume: float) -> None:
        if not math.isfinite(volume) or volume <= 0 or volume < spec.volume_min - EPS or volume > spec.volume_max + EPS \
                or not _round_step(volume, spec.volume_step):
            raise _Refusal(rc.INVALID_VOLUME, f"Invalid volume {volume}")

    def _check_stops(self, spec: SymbolSpec, buy: bool, reference: float, sl: float, tp: float) -> None:
        for name, v in (("sl", sl), ("tp", tp)):
            if not math.isfinite(v) or v < 0:
                raise _Refusal(rc.INVALID_STOPS, f"Invalid stops: {name}={v}")
        gap = spec.trade_stops_level * spec.point
        if sl and (sl > reference - gap if buy else sl < reference + gap):
            raise _Refusal(rc.INVALID_STOPS, f"Invalid stops: sl={sl} vs price {reference}")
        if tp and (tp < reference + gap if buy else tp > reference - gap):
            raise _Refusal(rc.INVALID_STOPS, f"Invalid stops: tp={tp} vs price {reference}")

    def _check_filling(self, type_filling: int) -> None:
        if type_filling not in (C.ORDER_FILLING_FOK, C.ORDER_FILLING_IOC):
            raise _Refusal(rc.INVALID_FILL, "Unsupported filling mode")

    def _check_requote(self, spec: SymbolSpec, req: TradeRequest, market_price: float, t: datetime,
                       scenario: Scenario, key: str) -> None:
        if scenario.requote(req.symbol, key, t):
            raise _Refusal(rc.REQUOTE, "Requote")
        if not math.isfinite(req.price) or req.price < 0:
            raise _Refusal(rc.INVALID_PRICE, f"Invalid price {req.price}")
        if req.price and abs(market_price - req.price) > req.deviation * spec.point + EPS:
            raise _Refusal(rc.REQUOTE, f"Requote: price {market_price} vs requested {req.price}")

    def _slippage(self, spec: SymbolSpec, req: TradeRequest, t: datetime) -> float:
        """Adverse slippage in [0, min(deviation, 3)] points, a deterministic function of the request."""
        bound = min(max(req.deviation, 0), MAX_SLIPPAGE_POINTS)
        if bound == 0:
            return 0.0
        h = hashlib.sha256(f"{req.comment}|{req.symbol}|{req.volume}|{_ts(t)}".encode()).digest()
        return (h[0] % (bound + 1)) * spec.point

    # -- actions
    def _validate_deal(self, book: Book, req: TradeRequest, t: datetime, scenario: Scenario):
        if req.position:
            return self._validate_close(book, req, t, scenario)
        spec = self._check_symbol(req.symbol)
        if req.type not in (C.ORDER_TYPE_BUY, C.ORDER_TYPE_SELL):
            raise _Refusal(rc.INVALID_ORDER, "Invalid order type for a market deal")
        self._check_volume(spec, req.volume)
        self._check_filling(req.type_filling)
        self._check_open(t)
        buy = req.type == C.ORDER_TYPE_BUY
        q = self.market().quote(req.symbol, t)
        market_price = q.ask if buy else q.bid
        self._check_requote(spec, req, market_price, t, scenario, req.comment)
        self._check_stops(spec, buy, q.bid if buy else q.ask, req.sl, req.tp)
        volume, retcode = req.volume, rc.DONE
        if req.type_filling == C.ORDER_FILLING_IOC and volume > MAX_IOC_FILL:
            volume, retcode = MAX_IOC_FILL, rc.DONE_PARTIAL
        _, margin, equity = self._totals(book, t)
        need = self._margin_of(book, req.symbol, volume, t)
        if equity - margin - need < 0:
            raise _Refusal(rc.NO_MONEY, f"No money: free margin {equity - margin:.2f} < required {need:.2f}")
        slip = self._slippage(spec, req, t)
        price = round(market_price + slip if buy else market_price - slip, spec.digits)

        def run() -> OrderSendResult:
            deal, pos = self._open(book, t, req.symbol, req.type, volume, price, req.sl, req.tp, req.magic,
                                   req.comment)
            return self._result(retcode, req, "Request executed" if retcode == rc.DONE else "Partially executed",
                                deal=deal["ticket"], order=pos["ticket"], volume=volume, price=price, quote=q)
        return run

    def _validate_close(self, book: Book, req: TradeRequest, t: datetime, scenario: Scenario):
        pos = next((p for p in book.positions if p["ticket"] == req.position), None)
        if pos is None:
            if any(d["position_id"] == req.position for d in book.deals):
                raise _Refusal(rc.POSITION_CLOSED, f"Position {req.position} already closed")
            raise _Refusal(rc.INVALID, f"Invalid request: position {req.position} not found")
        if req.symbol and req.symbol != pos["symbol"]:
            raise _Refusal(rc.INVALID, "Invalid request: symbol does not match the position")
        if req.type != 1 - pos["type"]:
            raise _Refusal(rc.INVALID, "Invalid request: a close must be opposite to the position")
        spec = self._spec(pos["symbol"])
        self._check_volume(spec, req.volume)
        if req.volume > pos["volume"] + EPS:
            raise _Refusal(rc.INVALID_CLOSE_VOLUME, f"Close volume {req.volume} exceeds position {pos['volume']}")
        self._check_filling(req.type_filling)
        self._check_open(t)
        q = self.market().quote(pos["symbol"], t)
        market_price = self._close_price(q, pos["type"])
        self._check_requote(spec, req._replace(symbol=pos["symbol"]), market_price, t, scenario, req.comment)
        slip = self._slippage(spec, req, t)
        price = round(market_price - slip if pos["type"] == C.POSITION_TYPE_BUY else market_price + slip, spec.digits)

        def run() -> OrderSendResult:
            order = book.ticket()
            deal = self._close(book, t, pos, req.volume, price, C.DEAL_REASON_EXPERT, req.comment, order=order,
                               magic=req.magic)
            return self._result(rc.DONE, req, "Request executed", deal=deal["ticket"], order=order,
                                volume=deal["volume"], price=price, quote=q)
        return run

    def _validate_pending(self, book: Book, req: TradeRequest, t: datetime):
        spec = self._check_symbol(req.symbol)
        kinds = (C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_SELL_LIMIT, C.ORDER_TYPE_BUY_STOP, C.ORDER_TYPE_SELL_STOP)
        if req.type not in kinds:
            raise _Refusal(rc.INVALID_ORDER, "Invalid pending order type")
        self._check_volume(spec, req.volume)
        if not math.isfinite(req.price) or req.price <= 0:
            raise _Refusal(rc.INVALID_PRICE, f"Invalid price {req.price}")
        self._check_open(t)
        q = self.market().quote(req.symbol, t)
        gap = spec.trade_stops_level * spec.point
        ok = {C.ORDER_TYPE_BUY_LIMIT: req.price < q.ask - gap, C.ORDER_TYPE_SELL_LIMIT: req.price > q.bid + gap,
              C.ORDER_TYPE_BUY_STOP: req.price > q.ask + gap, C.ORDER_TYPE_SELL_STOP: req.price < q.bid - gap}
        if not ok[req.type]:
            raise _Refusal(rc.INVALID_PRICE, f"Invalid price {req.price} for order type {req.type} (bid {q.bid}, "
                                             f"ask {q.ask})")
        buy = req.type in (C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_BUY_STOP)
        self._check_stops(spec, buy, req.price, req.sl, req.tp)

        def run() -> OrderSendResult:
            ticket = book.ticket()
            book.orders.append({"ticket": ticket, "time_setup": _ts(t), "type": req.type, "type_time": req.type_time,
                                "type_filling": req.type_filling, "magic": req.magic, "volume_initial": req.volume,
                                "volume_current": req.volume, "price_open": round(req.price, spec.digits),
                                "sl": req.sl, "tp": req.tp, "symbol": req.symbol, "comment": req.comment,
                                "expiration": req.expiration})
            book.dirty = True
            return self._result(rc.PLACED, req, "Request executed", order=ticket, volume=req.volume,
                                price=req.price, quote=q)
        return run

    def _validate_sltp(self, book: Book, req: TradeRequest, t: datetime):
        pos = next((p for p in book.positions if p["ticket"] == req.position), None)
        if pos is None:
            if any(d["position_id"] == req.position for d in book.deals):
                raise _Refusal(rc.POSITION_CLOSED, f"Position {req.position} already closed")
            raise _Refusal(rc.INVALID, f"Invalid request: position {req.position} not found")
        spec = self._spec(pos["symbol"])
        self._check_open(t)
        q = self.market().quote(pos["symbol"], t)
        buy = pos["type"] == C.POSITION_TYPE_BUY
        self._check_stops(spec, buy, self._close_price(q, pos["type"]), req.sl, req.tp)
        if abs(pos["sl"] - req.sl) < EPS and abs(pos["tp"] - req.tp) < EPS:
            raise _Refusal(rc.NO_CHANGES, "No changes")

        def run() -> OrderSendResult:
            pos["sl"], pos["tp"], pos["time_update"] = req.sl, req.tp, _ts(t)
            book.dirty = True
            return self._result(rc.DONE, req, "Request executed", order=0, quote=q)
        return run

    def _validate_modify(self, book: Book, req: TradeRequest, t: datetime):
        o = next((x for x in book.orders if x["ticket"] == req.order), None)
        if o is None:
            raise _Refusal(rc.INVALID, f"Invalid request: order {req.order} not found")
        spec = self._spec(o["symbol"])
        if not math.isfinite(req.price) or req.price <= 0:
            raise _Refusal(rc.INVALID_PRICE, f"Invalid price {req.price}")
        buy = o["type"] in (C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_BUY_STOP)
        self._check_stops(spec, buy, req.price, req.sl, req.tp)

        def run() -> OrderSendResult:
            o["price_open"], o["sl"], o["tp"] = round(req.price, spec.digits), req.sl, req.tp
            book.dirty = True
            return self._result(rc.DONE, req, "Request executed", order=o["ticket"])
        return run

    def _validate_remove(self, book: Book, req: TradeRequest, t: datetime):
        o = next((x for x in book.orders if x["ticket"] == req.order), None)
        if o is None:
            raise _Refusal(rc.INVALID, f"Invalid request: order {req.order} not found")

        def run() -> OrderSendResult:
            book.orders.remove(o)
            book.dirty = True
            return self._result(rc.DONE, req, "Request executed", order=o["ticket"])
        return run

    # ------------------------------------------------------------ simulation-only extension
    def balance_operation(self, amount: float, comment: str = "") -> OrderSendResult | None:
        """Deposit (>0) or withdraw (<0): a DEAL_TYPE_BALANCE deal. Not part of the real API."""
        req = TradeRequest(0, 0, 0, "", 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, 0, str(comment)[:MAX_COMMENT], 0, 0)
        with self._lock:
            if not self._ready():
                return None
            if not isinstance(amount, (int, float)) or not math.isfinite(amount) or amount == 0:
                return self._result(rc.INVALID, req, f"Invalid amount {amount}")
            with self._book() as (book, t):
                _, margin, equity = self._totals(book, t)
                if amount < 0 and equity - margin + amount < 0:
                    return self._result(rc.NO_MONEY, req, f"No money: free margin {equity - margin:.2f}")
                deal = self._deal(book, t, order=0, dtype=C.DEAL_TYPE_BALANCE, entry=C.DEAL_ENTRY_IN, magic=0,
                                  position_id=0, reason=0, volume=0.0, price=0.0, commission=0.0, swap=0.0,
                                  profit=float(amount), symbol="", comment=req.comment)
                return self._result(rc.DONE, req, "Balance operation done", deal=deal["ticket"])


def store_for(root: Path | None) -> StateStore:
    return StateStore(root)
