"""`MT5Broker`: the Broker port over any module with the MetaTrader5 Python API.

The module may be the real `MetaTrader5` package (Windows), an rpyc bridge to a terminal under Wine
(`multiaccount.brokers.bridge.RpycMT5`, the mt5linux way) or `multiaccount.brokers.simulated`; the
code path is the same. Rules this adapter enforces:
- one terminal serves the accounts of one `TerminalSession`; a login switch happens only when the
  session is on another account, and is counted;
- a function returning None with an IPC error (-10000..-10005) means the terminal is gone:
  `BrokerUnavailable` (retryable), the session is marked for re-initialization;
- `send`/`close` are idempotent by client id: the id travels in the MT5 `comment` (<= 31 chars, with
  `magic`), and open positions, pending orders and deal history are searched for it before sending
  (one indexed `client_order_lookup` call where the terminal has it, the simulated one does);
- the look-up and the send run under the account's `ClientIdLock` when one is given (the factory
  gives one per data folder), so two processes on this host never both send one client id;
- an outcome of unknown status (10011, 10012, 10031, an IPC error during order_send) is reconciled by
  the same search and reported FILLED/PLACED when found, else UNKNOWN: never blindly resent;
- a refused order is an `OrderOutcome(status=REJECTED, retcode, reason="CODE: comment")`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows (the real MetaTrader5 package): threads of one process only
    fcntl = None  # type: ignore[assignment]

from pydantic import SecretStr

from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.port import (
    Broker,
    BrokerUnavailable,
    Deal,
    DealEntry,
    PendingOrder,
    SymbolInfo,
    TransferNotSupported,
)
from multiaccount.domain import (
    AccountState,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    OrderType,
    Position,
    Side,
    client_order_id,
)
from multiaccount.domain.clock import Clock, SystemClock

log = logging.getLogger(__name__)

# MetaTrader5 constants (identical in the real package, mt5linux and the simulated module)
TRADE_ACTION_DEAL, TRADE_ACTION_PENDING, TRADE_ACTION_SLTP, TRADE_ACTION_MODIFY, TRADE_ACTION_REMOVE = 1, 5, 6, 7, 8
ACCOUNT_STOPOUT_MODE_PERCENT, ACCOUNT_STOPOUT_MODE_MONEY = 0, 1  # AccountInfo.margin_so_mode
ORDER_TYPE_BUY, ORDER_TYPE_SELL = 0, 1
PENDING_TYPES = {(Side.BUY, OrderType.LIMIT): 2, (Side.SELL, OrderType.LIMIT): 3,
                 (Side.BUY, OrderType.STOP): 4, (Side.SELL, OrderType.STOP): 5}
PENDING_BACK = {v: k for k, v in PENDING_TYPES.items()}
ORDER_FILLING_FOK, ORDER_FILLING_IOC, ORDER_FILLING_RETURN = 0, 1, 2
SYMBOL_FILLING_FOK, SYMBOL_FILLING_IOC = 1, 2
ORDER_TIME_GTC = 0
DEAL_TYPE_BUY, DEAL_TYPE_SELL, DEAL_TYPE_BALANCE = 0, 1, 2
ENTRIES = {0: DealEntry.IN, 1: DealEntry.OUT, 2: DealEntry.INOUT, 3: DealEntry.OUT_BY}

DEFAULT_MAGIC = 2026_0419
MAX_COMMENT = 31
REQUOTE_RETRIES = 2
HISTORY_LOOKBACK = timedelta(days=30)
LOOKUP_FN = "client_order_lookup"  # simulated terminals only: orders by comment in one call


def _opt(v: float) -> float | None:
    return v if v else None


def _finite(*values: float | None) -> bool:
    return all(v is None or (isinstance(v, (int, float)) and math.isfinite(v)) for v in values)


class TerminalSession:
    """One terminal connection shared by the brokers of the accounts it serves (one per worker)."""

    def __init__(self, module: Any, path: str | None = None, timeout_ms: int = 60_000):
        self.module = module
        self.path = path
        self.timeout_ms = timeout_ms
        self.current_login: int | None = None
        self.initialized = False
        self.login_switches = 0
        self.lock = threading.RLock()

    def ensure(self, login: int, password: SecretStr | None, server: str | None) -> None:
        """Make `login` the terminal's account; raise BrokerUnavailable when the terminal refuses."""
        with self.lock:
            if self.initialized and self.current_login == login:
                return
            kwargs: dict[str, Any] = {"login": login, "timeout": self.timeout_ms}
            if password is not None:
                kwargs["password"] = password.get_secret_value()
            if server:
                kwargs["server"] = server
            try:
                if not self.initialized:
                    ok = self.module.initialize(self.path, **kwargs) if self.path else self.module.initialize(**kwargs)
                else:
                    ok = self.module.login(**kwargs)
                    self.login_switches += 1
            except Exception as exc:  # a bridge transport error is a connection problem
                self.invalidate()
                raise BrokerUnavailable(f"terminal login {login} failed: {type(exc).__name__}: {exc}") from exc
            if not ok:
                code, message = self.last_error()
                self.invalidate()
                raise BrokerUnavailable(f"terminal login {login} failed: ({code}, {message})")
            self.initialized = True
            self.current_login = login

    def last_error(self) -> tuple[int, str]:
        try:
            err = self.module.last_error()
            return int(err[0]), str(err[1])
        except Exception as exc:
            return rc.RES_E_INTERNAL_FAIL_CONNECT, f"last_error unavailable: {exc}"

    def invalidate(self) -> None:
        with self.lock:
            self.initialized = False
            self.current_login = None

    def shutdown(self) -> None:
        with self.lock:
            try:
                self.module.shutdown()
            except Exception as exc:
                log.debug("terminal shutdown: %s", exc)
            self.invalidate()


class ClientIdLock:
    """Makes "is this client id at the broker? if not, send it" one step per account login.

    The look-up and the send are two terminal calls, so two processes acting on the same account
    (the realtime service, an Airflow task, the CLI) could both miss the other's order and both
    send it. This lock closes that gap for every process on this host: a thread lock per login
    plus an exclusive `flock` on `directory/login_<login>.lock` (where fcntl exists), held from the
    look-up until the terminal has answered."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self._files: dict[int, Any] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock_of(self, login: int) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(login, threading.Lock())

    def _file_of(self, login: int) -> Any:
        fh = self._files.get(login)
        if fh is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            fh = self._files[login] = open(self.directory / f"login_{login}.lock", "a+")  # noqa: SIM115 - kept open
        return fh

    @contextmanager
    def hold(self, login: int) -> Iterator[None]:
        with self._lock_of(login):
            if fcntl is None:
                yield
                return
            fh = self._file_of(login)
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def __getstate__(self) -> dict[str, Any]:  # travels to process workers as its directory only
        return {"directory": self.directory}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["directory"])  # type: ignore[misc]


@dataclass(frozen=True)
class _Found:
    status: OrderStatus
    ticket: int
    volume: float
    price: float
    deal: int | None = None

def stopout_percent(value: float, mode: int, margin: float) -> float:
    """A broker's margin-call or stop-out threshold as a margin level in percent, whatever its mode.

    In money mode the broker acts when equity falls to `value` (account currency), which at the current
    margin is the level value / margin x 100. An added trade raises the margin and so lowers the true
    level: the figure stays conservative for pre-trade checks. With no margin used there is nothing to
    stop out (0)."""
    if mode != ACCOUNT_STOPOUT_MODE_MONEY:
        return float(value)
    return float(value) / margin * 100.0 if margin > 0 else 0.0


class MT5Broker(Broker):
    """One account on one terminal session."""

    def __init__(self, account_id: str, module: Any = None, *, login: int, password: SecretStr | None = None,
                 server: str | None = None, session: TerminalSession | None = None, magic: int = DEFAULT_MAGIC,
                 clock: Clock | None = None, history_lookback: timedelta = HISTORY_LOOKBACK,
                 client_id_lock: ClientIdLock | None = None):
        if session is None:
            if module is None:
                raise ValueError("MT5Broker needs a module or a TerminalSession")
            session = TerminalSession(module)
        self.account_id = account_id
        self.session = session
        self.login = login
        self._password = password
        self.server = server
        self.magic = magic
        self.clock = clock or SystemClock()
        self.history_lookback = history_lookback
        self.client_id_lock = client_id_lock

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """No other holder of the account's `ClientIdLock` looks up or sends meanwhile (no-op without one)."""
        if self.client_id_lock is None:
            yield
        else:
            with self.client_id_lock.hold(self.login):
                yield

    @property
    def mt5(self) -> Any:
        return self.session.module

    def __repr__(self) -> str:  # never shows the password
        return f"MT5Broker(account_id={self.account_id!r}, login={self.login}, server={self.server!r})"

    # ------------------------------------------------------------ plumbing
    def _call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        """Call an API function for this account; None with a non-IPC error is returned as None."""
        with self.session.lock:
            self.session.ensure(self.login, self._password, self.server)
            try:
                result = getattr(self.mt5, fn)(*args, **kwargs)
            except Exception as exc:
                self.session.invalidate()
                raise BrokerUnavailable(f"{self.account_id}: {fn} failed: {type(exc).__name__}: {exc}") from exc
            if result is None:
                code, message = self.session.last_error()
                if code in rc.IPC_ERRORS or code == rc.RES_E_AUTH_FAILED:
                    self.session.invalidate()
                    raise BrokerUnavailable(f"{self.account_id}: {fn} -> ({code}, {message})")
            return result

    def _need(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        result = self._call(fn, *args, **kwargs)
        if result is None:
            code, message = self.session.last_error()
            raise BrokerUnavailable(f"{self.account_id}: {fn} returned None ({code}, {message})")
        return result

    def _outcome(self, client_id: str, status: OrderStatus, retcode: int | None = None, reason: str = "", *,
                 volume: float = 0.0, price: float | None = None, ticket: int | None = None,
                 deal: int | None = None, started: float | None = None) -> OrderOutcome:
        latency = (time.perf_counter() - started) * 1000.0 if started is not None else None
        return OrderOutcome(client_id=client_id, account_id=self.account_id, status=status, retcode=retcode,
                            reason=reason, volume=volume, price=price, ticket=ticket or None, deal=deal or None,
                            latency_ms=latency)

    def _rejected(self, client_id: str, retcode: int, detail: str, started: float | None = None) -> OrderOutcome:
        return self._outcome(client_id, OrderStatus.REJECTED, retcode, f"{rc.name(retcode)}: {detail}",
                             started=started)

    # ------------------------------------------------------------ connection
    def connect(self) -> None:
        with self.session.lock:
            self.session.ensure(self.login, self._password, self.server)
            info = self._need("account_info")
            if int(info.login) != self.login:
                self.session.invalidate()
                raise BrokerUnavailable(f"{self.account_id}: terminal is on login {info.login}, expected {self.login}")

    def is_connected(self) -> bool:
        try:
            info = self._call("terminal_info")
        except BrokerUnavailable:
            return False
        return bool(info is not None and info.connected)

    def shutdown(self) -> None:
        self.session.shutdown()

    # ------------------------------------------------------------ reads
    def account_state(self) -> AccountState:
        i = self._need("account_info")
        mode, margin = int(getattr(i, "margin_so_mode", ACCOUNT_STOPOUT_MODE_PERCENT)), float(i.margin)
        return AccountState(account_id=self.account_id, balance=float(i.balance), equity=float(i.equity),
                            margin=margin, margin_free=float(i.margin_free),
                            margin_level=float(i.margin_level) if i.margin else None, currency=i.currency,
                            leverage=int(i.leverage), margin_so_call=stopout_percent(i.margin_so_call, mode, margin),
                            margin_so_so=stopout_percent(i.margin_so_so, mode, margin), connected=True,
                            at=self.clock.now())

    def positions(self) -> list[Position]:
        return [self._position(p) for p in self._need("positions_get")]

    def _position(self, p: Any) -> Position:
        return Position(account_id=self.account_id, ticket=int(p.ticket), symbol=p.symbol,
                        side=Side.BUY if p.type == ORDER_TYPE_BUY else Side.SELL, volume=float(p.volume),
                        price_open=float(p.price_open), sl=_opt(p.sl), tp=_opt(p.tp),
                        price_current=float(p.price_current), profit=float(p.profit), swap=float(p.swap),
                        opened_at=datetime.fromtimestamp(p.time, UTC), magic=int(p.magic), comment=p.comment)

    def pending_orders(self) -> list[PendingOrder]:
        out = []
        for o in self._need("orders_get"):
            side, otype = PENDING_BACK.get(int(o.type), (Side.BUY, OrderType.LIMIT))
            out.append(PendingOrder(account_id=self.account_id, ticket=int(o.ticket), symbol=o.symbol, side=side,
                                    order_type=otype, volume=float(o.volume_current), price=float(o.price_open),
                                    sl=_opt(o.sl), tp=_opt(o.tp), placed_at=datetime.fromtimestamp(o.time_setup, UTC),
                                    magic=int(o.magic), comment=o.comment))
        return out

    def symbol_info(self, symbol: str) -> SymbolInfo:
        s = self._call("symbol_info", symbol)
        if s is None:
            raise KeyError(f"{self.account_id}: unknown symbol {symbol!r}")
        return SymbolInfo(name=s.name, digits=int(s.digits), point=float(s.point),
                          contract_size=float(s.trade_contract_size), volume_min=float(s.volume_min),
                          volume_step=float(s.volume_step), volume_max=float(s.volume_max),
                          tick_size=float(s.trade_tick_size), tick_value=float(s.trade_tick_value),
                          trade_stops_level=int(s.trade_stops_level), filling_mode=int(s.filling_mode),
                          bid=float(s.bid), ask=float(s.ask), currency_base=s.currency_base,
                          currency_profit=s.currency_profit, swap_long=float(s.swap_long),
                          swap_short=float(s.swap_short))

    def deals(self, since: datetime) -> list[Deal]:
        raw = self._need("history_deals_get", since, self.clock.now() + timedelta(days=1))
        return [self._deal(d) for d in raw]

    def _deal(self, d: Any) -> Deal:
        balance = int(d.type) not in (DEAL_TYPE_BUY, DEAL_TYPE_SELL)
        side = None if balance else (Side.BUY if d.type == DEAL_TYPE_BUY else Side.SELL)
        return Deal(account_id=self.account_id, ticket=int(d.ticket), order=int(d.order),
                    time=datetime.fromtimestamp(d.time_msc / 1000.0, UTC), symbol=d.symbol, side=side,
                    entry=ENTRIES.get(int(d.entry), DealEntry.IN), volume=float(d.volume), price=float(d.price),
                    commission=float(d.commission), swap=float(d.swap), profit=float(d.profit), comment=d.comment,
                    magic=int(d.magic), position_id=int(d.position_id), kind="balance" if balance else "trade",
                    reason=int(d.reason))

    # ------------------------------------------------------------ idempotency
    def _records(self, client_id: str, entry: int) -> tuple[Any, Any, Any]:
        """(positions, orders, deals in the lookback) that may carry `client_id` as their comment.

        A terminal that indexes orders by comment (the simulated one: `client_order_lookup`) answers
        in one call; any other (the real MetaTrader5) is scanned with the standard functions."""
        now = self.clock.now()
        since, until = now - self.history_lookback, now + timedelta(days=1)
        if self._has(LOOKUP_FN):
            return tuple(self._need(LOOKUP_FN, client_id, since, until))
        positions = self._need("positions_get") if entry == 0 else ()
        orders = self._need("orders_get") if entry == 0 else ()
        return positions, orders, self._need("history_deals_get", since, until)

    def _has(self, fn: str) -> bool:
        try:
            return callable(getattr(self.mt5, fn, None))
        except Exception:  # a proxy may raise anything for a name it does not serve
            return False

    def _find(self, client_id: str, entry: int = 0) -> _Found | None:
        """Has an order with this client id already reached the server? (positions, orders, deal history)"""
        positions, orders, deals = self._records(client_id, entry)
        if entry == 0:
            for p in positions:
                if p.comment == client_id:
                    return _Found(OrderStatus.FILLED, int(p.ticket), float(p.volume), float(p.price_open))
            for o in orders:
                if o.comment == client_id:
                    return _Found(OrderStatus.PLACED, int(o.ticket), float(o.volume_current), float(o.price_open))
        for d in deals:
            if d.comment == client_id and int(d.entry) == entry:
                ticket = int(d.position_id) or int(d.order)
                return _Found(OrderStatus.FILLED, ticket, float(d.volume), float(d.price), int(d.ticket))
        return None

    def _duplicate(self, client_id: str, found: _Found, started: float) -> OrderOutcome:
        log.info("order %s already at the broker (ticket %s): not resent", client_id, found.ticket)
        return self._outcome(client_id, OrderStatus.DUPLICATE, None, f"DUPLICATE: ticket={found.ticket}",
                             volume=found.volume, price=found.price, ticket=found.ticket, deal=found.deal,
                             started=started)

    def _reconcile(self, client_id: str, why: str, entry: int, started: float) -> OrderOutcome:
        """Outcome unknown: look for the order before anyone thinks of resending it."""
        try:
            found = self._find(client_id, entry)
        except BrokerUnavailable as exc:
            log.warning("order %s outcome unknown (%s) and reconcile impossible: %s", client_id, why, exc)
            return self._outcome(client_id, OrderStatus.UNKNOWN, None,
                                 f"UNKNOWN_OUTCOME: {why}; terminal unreachable, reconcile before any resend",
                                 started=started)
        if found is None:
            log.warning("order %s outcome unknown (%s): not found at the broker", client_id, why)
            return self._outcome(client_id, OrderStatus.UNKNOWN, None,
                                 f"UNKNOWN_OUTCOME: {why}; not found on reconcile, do not resend blindly",
                                 started=started)
        log.info("order %s reconciled after %s: ticket %s", client_id, why, found.ticket)
        return self._outcome(client_id, found.status, None, f"RECONCILED: {why}; ticket={found.ticket}",
                             volume=found.volume, price=found.price, ticket=found.ticket, deal=found.deal,
                             started=started)

    # ------------------------------------------------------------ requests
    @staticmethod
    def _filling(filling_mode: int) -> int:
        if filling_mode & SYMBOL_FILLING_FOK:
            return ORDER_FILLING_FOK
        if filling_mode & SYMBOL_FILLING_IOC:
            return ORDER_FILLING_IOC
        return ORDER_FILLING_RETURN

    def _local_refusal(self, intent: OrderIntent) -> tuple[int, str] | None:
        """Requests no server would accept are refused here, with the retcode the server would use."""
        if not intent.client_id or len(intent.client_id) > MAX_COMMENT:
            return rc.INVALID, f"client id must be 1..{MAX_COMMENT} characters (MT5 comment)"
        if not _finite(intent.volume) or intent.volume <= 0:
            return rc.INVALID_VOLUME, f"volume={intent.volume}"
        if not _finite(intent.price) or (intent.price is not None and intent.price <= 0):
            return rc.INVALID_PRICE, f"price={intent.price}"
        if intent.order_type is not OrderType.MARKET and intent.price is None:
            return rc.INVALID_PRICE, "pending order without price"
        if not _finite(intent.sl, intent.tp) or (intent.sl or 0) < 0 or (intent.tp or 0) < 0:
            return rc.INVALID_STOPS, f"sl={intent.sl}, tp={intent.tp}"
        return None

    def _request(self, intent: OrderIntent, info: Any) -> dict[str, Any]:
        req: dict[str, Any] = {"symbol": intent.symbol, "volume": float(intent.volume), "magic": self.magic,
                               "comment": intent.client_id, "sl": float(intent.sl or 0.0),
                               "tp": float(intent.tp or 0.0), "type_time": ORDER_TIME_GTC}
        if intent.order_type is OrderType.MARKET:
            req.update(action=TRADE_ACTION_DEAL, deviation=int(intent.deviation),
                       type=ORDER_TYPE_BUY if intent.side is Side.BUY else ORDER_TYPE_SELL,
                       price=float(info.ask if intent.side is Side.BUY else info.bid),
                       type_filling=self._filling(int(info.filling_mode)))
            if intent.position_ticket:  # closes that position; without it a hedging account opens an opposite one
                req["position"] = int(intent.position_ticket)
        else:
            req.update(action=TRADE_ACTION_PENDING, type=PENDING_TYPES[(intent.side, intent.order_type)],
                       price=float(intent.price), type_filling=ORDER_FILLING_RETURN)
        return req

    def check(self, intent: OrderIntent) -> OrderOutcome:
        """order_check. A valid request answers status SKIPPED (nothing executed), retcode 0, reason CHECK_OK."""
        started = time.perf_counter()
        refusal = self._local_refusal(intent)
        if refusal:
            return self._rejected(intent.client_id, *refusal, started=started)
        info = self._call("symbol_info", intent.symbol)
        if info is None:
            return self._rejected(intent.client_id, rc.INVALID, f"unknown symbol {intent.symbol!r}", started)
        r = self._call("order_check", self._request(intent, info))
        if r is None:
            code, message = self.session.last_error()
            return self._rejected(intent.client_id, rc.INVALID, f"order_check refused ({code}, {message})", started)
        if int(r.retcode) != rc.DONE_CHECK:
            return self._rejected(intent.client_id, int(r.retcode), r.comment, started)
        return self._outcome(intent.client_id, OrderStatus.SKIPPED, 0,
                             f"CHECK_OK: margin={r.margin:.2f}, margin_free={r.margin_free:.2f}, "
                             f"margin_level={r.margin_level:.1f}", volume=intent.volume, started=started)

    def send(self, intent: OrderIntent) -> OrderOutcome:
        started = time.perf_counter()
        refusal = self._local_refusal(intent)
        if refusal:
            return self._rejected(intent.client_id, *refusal, started=started)
        with self._exclusive():
            return self._send_once(intent, started)

    def _send_once(self, intent: OrderIntent, started: float) -> OrderOutcome:
        found = self._find(intent.client_id)
        if found is not None:
            return self._duplicate(intent.client_id, found, started)
        for attempt in range(REQUOTE_RETRIES + 1):
            info = self._call("symbol_info", intent.symbol)
            if info is None:
                return self._rejected(intent.client_id, rc.INVALID, f"unknown symbol {intent.symbol!r}", started)
            outcome = self._submit(intent.client_id, self._request(intent, info), entry=0, started=started)
            if outcome.retcode not in rc.RETRYABLE or attempt == REQUOTE_RETRIES:
                return outcome
            log.info("order %s %s: retrying with a fresh price", intent.client_id, rc.name(outcome.retcode))
        return outcome  # pragma: no cover - loop always returns

    def _submit(self, client_id: str, request: dict[str, Any], entry: int, started: float) -> OrderOutcome:
        with self.session.lock:
            try:
                self.session.ensure(self.login, self._password, self.server)
            except BrokerUnavailable as exc:  # nothing was sent: a clean, retryable refusal
                return self._rejected(client_id, rc.CONNECTION, f"not sent, terminal unavailable: {exc}", started)
            try:
                r = self.mt5.order_send(request)
            except Exception as exc:
                self.session.invalidate()
                return self._reconcile(client_id, f"IPC_ERROR {type(exc).__name__}: {exc}", entry, started)
            if r is None:
                code, message = self.session.last_error()
                if code in rc.IPC_ERRORS:
                    self.session.invalidate()
                    return self._reconcile(client_id, f"IPC_ERROR ({code}, {message})", entry, started)
                return self._rejected(client_id, rc.INVALID, f"order_send refused ({code}, {message})", started)
        code = int(r.retcode)
        if rc.is_uncertain(code):
            return self._reconcile(client_id, f"{rc.name(code)} {r.comment}", entry, started)
        if code in (rc.DONE, rc.DONE_PARTIAL, rc.PLACED):
            status = {rc.DONE: OrderStatus.FILLED, rc.DONE_PARTIAL: OrderStatus.PARTIAL,
                      rc.PLACED: OrderStatus.PLACED}[code]
            return self._outcome(client_id, status, code, f"{rc.name(code)}: {r.comment}", volume=float(r.volume),
                                 price=float(r.price) or None, ticket=int(r.order), deal=int(r.deal),
                                 started=started)
        return self._rejected(client_id, code, r.comment, started)

    def close(self, ticket: int, volume: float | None = None, client_id: str | None = None,
              deviation: int = 10) -> OrderOutcome:
        started = time.perf_counter()
        client_id = client_id or client_order_id(f"close:{ticket}", self.account_id, f"{volume}")
        if len(client_id) > MAX_COMMENT:
            return self._rejected(client_id, rc.INVALID, f"client id longer than {MAX_COMMENT}", started)
        if volume is not None and (not _finite(volume) or volume <= 0):
            return self._rejected(client_id, rc.INVALID_VOLUME, f"volume={volume}", started)
        with self._exclusive():
            return self._close_once(ticket, volume, client_id, deviation, started)

    def _close_once(self, ticket: int, volume: float | None, client_id: str, deviation: int,
                    started: float) -> OrderOutcome:
        found = self._find(client_id, entry=1)
        if found is not None:
            return self._duplicate(client_id, found, started)
        positions = self._need("positions_get", ticket=int(ticket))
        if not positions:
            return self._rejected(client_id, rc.POSITION_CLOSED, f"position {ticket} is not open", started)
        p = positions[0]
        info = self._call("symbol_info", p.symbol)
        if info is None:
            return self._rejected(client_id, rc.INVALID, f"unknown symbol {p.symbol!r}", started)
        buy = int(p.type) == ORDER_TYPE_BUY
        request = {"action": TRADE_ACTION_DEAL, "symbol": p.symbol, "volume": float(volume or p.volume),
                   "type": ORDER_TYPE_SELL if buy else ORDER_TYPE_BUY, "position": int(ticket),
                   "price": float(info.bid if buy else info.ask), "deviation": int(deviation), "magic": self.magic,
                   "comment": client_id, "type_time": ORDER_TIME_GTC,
                   "type_filling": self._filling(int(info.filling_mode))}
        return self._submit(client_id, request, entry=1, started=started)

    def modify(self, ticket: int, sl: float | None, tp: float | None) -> OrderOutcome:
        started = time.perf_counter()
        client_id = f"modify-{ticket}"
        if not _finite(sl, tp) or (sl or 0) < 0 or (tp or 0) < 0:
            return self._rejected(client_id, rc.INVALID_STOPS, f"sl={sl}, tp={tp}", started)
        positions = self._need("positions_get", ticket=int(ticket))
        if positions:
            request = {"action": TRADE_ACTION_SLTP, "symbol": positions[0].symbol, "position": int(ticket),
                       "sl": float(sl or 0.0), "tp": float(tp or 0.0), "magic": self.magic}
        else:
            orders = self._need("orders_get", ticket=int(ticket))
            if not orders:
                return self._rejected(client_id, rc.POSITION_CLOSED, f"no open position or order {ticket}", started)
            request = {"action": TRADE_ACTION_MODIFY, "order": int(ticket), "symbol": orders[0].symbol,
                       "price": float(orders[0].price_open), "sl": float(sl or 0.0), "tp": float(tp or 0.0),
                       "type_time": ORDER_TIME_GTC}
        return self._simple(client_id, request, started)

    def cancel(self, ticket: int) -> OrderOutcome:
        started = time.perf_counter()
        return self._simple(f"cancel-{ticket}", {"action": TRADE_ACTION_REMOVE, "order": int(ticket)}, started)

    def _simple(self, client_id: str, request: dict[str, Any], started: float) -> OrderOutcome:
        """SLTP / MODIFY / REMOVE: repeating them is harmless, so no reconcile; FILLED = request completed."""
        r = self._call("order_send", request)
        if r is None:
            code, message = self.session.last_error()
            return self._rejected(client_id, rc.INVALID, f"order_send refused ({code}, {message})", started)
        code = int(r.retcode)
        if code in (rc.DONE, rc.NO_CHANGES):
            return self._outcome(client_id, OrderStatus.FILLED, code, f"{rc.name(code)}: {r.comment}",
                                 ticket=int(request.get("position") or request.get("order") or 0), started=started)
        if rc.is_uncertain(code):
            return self._outcome(client_id, OrderStatus.UNKNOWN, code, f"{rc.name(code)}: {r.comment}",
                                 started=started)
        return self._rejected(client_id, code, r.comment, started)

    # ------------------------------------------------------------ money movements
    def balance_operation(self, amount: Decimal, comment: str) -> OrderOutcome:
        """Only terminals that expose `balance_operation` (the simulated one) can move money.

        Idempotent by `comment`: a balance deal with the same comment means it was already done."""
        started = time.perf_counter()
        fn = getattr(self.mt5, "balance_operation", None)
        if fn is None:
            raise TransferNotSupported(f"{self.account_id}: transfers need a human-confirmed instruction")
        comment = comment[:MAX_COMMENT]
        with self._exclusive():
            return self._balance_once(amount, comment, started)

    def _balance_once(self, amount: Decimal, comment: str, started: float) -> OrderOutcome:
        _, _, deals = self._records(comment, entry=-1)
        for d in deals:
            if int(d.type) == DEAL_TYPE_BALANCE and d.comment == comment:
                return self._outcome(comment, OrderStatus.DUPLICATE, None, f"DUPLICATE: deal={d.ticket}",
                                     price=float(d.profit), deal=int(d.ticket), started=started)
        r = self._call("balance_operation", float(amount), comment)
        if r is None:
            code, message = self.session.last_error()
            return self._rejected(comment, rc.INVALID, f"balance operation refused ({code}, {message})", started)
        if int(r.retcode) == rc.DONE:
            return self._outcome(comment, OrderStatus.FILLED, rc.DONE, f"DONE: {r.comment}", price=float(amount),
                                 deal=int(r.deal), started=started)
        return self._rejected(comment, int(r.retcode), r.comment, started)
