"""The terminal pool: one worker per terminal, accounts assigned to workers, concurrent fan-out.

The MetaTrader5 API drives one terminal per process, so each worker (a process, or a thread for the
simulated terminal in tests and the demo) owns one terminal and serves the accounts assigned to it.
Design points:
- accounts are spread round-robin over `min(size, accounts)` workers; a worker drains its queue and
  serves the account it is logged into first, then the others grouped, so login switches stay few
  (counted per worker);
- every request carries the caller's `clock.now()`; the worker sets it on its `RequestClock`, so a
  ManualClock in the parent drives simulated terminals in other processes;
- reads for monitoring (`account_states`, `positions`, `status`) never raise for one account: a failed
  account shows `AccountState(connected=False)` and its `ConnectionStatus`; actions reconnect with
  exponential backoff (tenacity) before giving up;
- a crashed worker is restarted and reported (status `restarts`, log, optional EventSink event);
  requests it had in flight fail: a send in flight becomes UNKNOWN (reconcile, never blindly resend);
- `send_many` fans out across workers concurrently and answers one OrderOutcome per intent, in order.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import selectors
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from itertools import count
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from multiaccount.brokers import retcodes as rc
from multiaccount.brokers.port import Broker, BrokerError, BrokerUnavailable, ConnectionStatus, TransferNotSupported
from multiaccount.config import FirmConfig
from multiaccount.domain import AccountState, OrderIntent, OrderOutcome, OrderStatus, Position, Scope, Severity
from multiaccount.domain import client_order_id
from multiaccount.domain.clock import Clock, SystemClock
from multiaccount.domain.ports import DomainEvent, EventSink

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 120.0
MAX_RESTARTS = 20  # a worker that dies more often than this is left down (reported) instead of looping


class WorkerCrashed(BrokerUnavailable):
    """The worker serving the account died while the request was in flight (outcome unknown)."""


class RequestClock:
    """The clock of a worker: set to the caller's `now` with every request."""

    def __init__(self, start: datetime | None = None):
        self._now = start

    def set(self, when: datetime) -> None:
        self._now = when

    def now(self) -> datetime:
        return self._now if self._now is not None else datetime.now(UTC)


@dataclass
class WorkerContext:
    """What a broker factory gets in the worker: its terminal index, its clock, a per-worker cache."""

    index: int
    clock: RequestClock
    shared: dict[str, Any] = field(default_factory=dict)


BrokerFactory = Callable[[str, WorkerContext], Broker]

_ERRORS: dict[str, type[Exception]] = {"BrokerUnavailable": BrokerUnavailable,
                                       "TransferNotSupported": TransferNotSupported, "KeyError": KeyError,
                                       "ValueError": ValueError, "TypeError": TypeError,
                                       "AttributeError": AttributeError}


# ---------------------------------------------------------------- worker side
class _QueueConn:
    """A Pipe end over two queues, so thread workers run the same loop as process workers."""

    def __init__(self, inbox: queue.Queue, outbox: queue.Queue):
        self._in, self._out = inbox, outbox

    def send(self, obj: Any) -> None:
        self._out.put(obj)

    def recv(self) -> Any:
        return self._in.get()

    def poll(self, timeout: float = 0.0) -> bool:
        return not self._in.empty()

    def close(self) -> None:
        pass


def _queue_pipe() -> tuple[_QueueConn, _QueueConn]:
    a, b = queue.Queue(), queue.Queue()
    return _QueueConn(a, b), _QueueConn(b, a)


class _DirectConn(_QueueConn):
    """A thread worker's end whose replies are delivered by the worker thread itself.

    No reader thread and no second queue hop: with 50 thread workers, each reply used to cost a
    wake-up and a GIL hand-over of its own reader thread before the caller's Future was set."""

    def __init__(self, inbox: queue.Queue, deliver: Callable[[Any], None]):
        super().__init__(inbox, queue.Queue())
        self._deliver = deliver

    def send(self, obj: Any) -> None:
        self._deliver(obj)


def _worker_loop(index: int, factory: BrokerFactory, conn: Any, attempts: int, backoff: float,
                 env: dict[str, str] | None = None) -> None:
    """Serve requests `(req_id, now, account_id, method, args, kwargs, retry)` until None arrives."""
    if env:
        os.environ.update(env)
    ctx = WorkerContext(index=index, clock=RequestClock())
    brokers: dict[str, Broker] = {}
    current: str | None = None
    while True:
        try:
            batch = [conn.recv()]
            while conn.poll():
                batch.append(conn.recv())
        except (EOFError, OSError):
            break
        stop = any(m is None for m in batch)
        requests = [m for m in batch if m is not None]
        order = {acc: i for i, acc in reversed(list(enumerate(m[2] for m in requests)))}
        requests.sort(key=lambda m: (m[2] != current, order[m[2]]))  # current login first, then grouped
        for req_id, now, account_id, method, args, kwargs, retry in requests:
            ctx.clock.set(now)
            reply = _serve_one(ctx, factory, brokers, account_id, method, args, kwargs,
                               attempts if retry else 1, backoff)
            current = account_id
            session = ctx.shared.get("session")
            switches = getattr(session, "login_switches", 0)
            try:
                conn.send((req_id, reply, switches))
            except (EOFError, OSError):
                return
        if stop:
            for b in brokers.values():
                try:
                    b.shutdown()
                except Exception as exc:  # shutting down anyway
                    log.debug("shutdown %s: %s", b, exc)
            return


def _serve_one(ctx: WorkerContext, factory: BrokerFactory, brokers: dict[str, Broker], account_id: str, method: str,
               args: tuple, kwargs: dict, attempts: int, backoff: float) -> tuple:
    try:
        broker = brokers.get(account_id)
        if broker is None:
            broker = brokers[account_id] = factory(account_id, ctx)
        if method.startswith("_"):
            raise AttributeError(f"{method} is not a broker method")
        fn = getattr(broker, method)

        def attempt() -> Any:
            try:
                return fn(*args, **kwargs)
            except BrokerUnavailable:
                if attempts > 1:
                    try:
                        broker.connect()
                    except BrokerUnavailable:
                        pass
                raise

        try:  # the common case, without building a Retrying
            return ("ok", fn(*args, **kwargs))
        except BrokerUnavailable:
            if attempts <= 1:
                raise
            try:
                broker.connect()
            except BrokerUnavailable:
                pass
            attempts -= 1
            time.sleep(backoff)
        for trial in Retrying(stop=stop_after_attempt(max(1, attempts)),
                              wait=wait_exponential(multiplier=backoff, max=backoff * 8),
                              retry=retry_if_exception_type(BrokerUnavailable), reraise=True):
            with trial:
                value = attempt()
        return ("ok", value)
    except Exception as exc:  # every failure goes back to the caller; the worker keeps serving
        if not isinstance(exc, BrokerError | KeyError | ValueError):
            log.exception("worker %s: %s.%s failed", ctx.index, account_id, method)
        return ("err", type(exc).__name__, str(exc))


def _process_main(index: int, factory: BrokerFactory, conn: Any, attempts: int, backoff: float,
                  env: dict[str, str]) -> None:
    logging.basicConfig(level=os.environ.get("MULTIACCOUNT_LOG_LEVEL", "WARNING"))
    _yield_to_the_caller()
    _worker_loop(index, factory, conn, attempts, backoff, env)


def _yield_to_the_caller() -> None:
    """Run this worker under SCHED_BATCH (same CPU share, no wake-up preemption), where Linux has it.

    A fan-out writes 50 requests in a row; each write wakes a worker which, as a normal task, preempts
    the caller on a 2-core machine, so the 50th request left only after the first 49 workers had done
    their pre-send work (measured: 22-62 ms to write 50 requests). Batch workers wait for the
    caller's time slice instead: all requests leave in about a millisecond and the simulated order
    latencies overlap."""
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None:
        return
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError as exc:  # not permitted in this sandbox: only slower
        log.debug("SCHED_BATCH unavailable: %s", exc)


# ---------------------------------------------------------------- parent side
@dataclass
class _Worker:
    index: int
    accounts: list[str]
    conn: Any = None
    runner: Any = None  # Process or Thread
    pending: dict[int, tuple[Future, str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    restarts: int = 0
    login_switches: int = 0
    alive: bool = False


def assign_accounts(accounts: Iterable[str], size: int) -> list[list[str]]:
    """Round-robin over min(size, n) terminals, so each terminal serves as few accounts as possible."""
    ids = sorted(accounts)
    n = max(1, min(size, len(ids)))
    return [ids[i::n] for i in range(n)]


class TerminalPool:
    """A pool of terminal workers serving the firm's accounts."""

    def __init__(self, firm: FirmConfig, broker_factory: BrokerFactory, size: int | None = None,
                 mode: str = "process", clock: Clock | None = None, *, accounts: Iterable[str] | None = None,
                 events: EventSink | None = None, reconnect_attempts: int | None = None,
                 reconnect_backoff: float | None = None, request_timeout: float = REQUEST_TIMEOUT,
                 connect_on_start: bool = True):
        if mode not in ("process", "thread"):
            raise ValueError("mode must be 'process' or 'thread'")
        cfg = firm.master.terminal_pool
        self.firm = firm
        self.factory = broker_factory
        self.size = size or cfg.size
        self.mode = mode
        self.clock = clock or SystemClock()
        self.events = events
        self.attempts = reconnect_attempts or cfg.reconnect_attempts
        self.backoff = reconnect_backoff if reconnect_backoff is not None else cfg.reconnect_backoff_seconds
        self.request_timeout = request_timeout
        self.connect_on_start = connect_on_start
        self.accounts = sorted(accounts) if accounts is not None else sorted(firm.accounts)
        self._workers = [_Worker(i, accs) for i, accs in enumerate(assign_accounts(self.accounts, self.size))]
        self._by_account = {a: w for w in self._workers for a in w.accounts}
        self._ids = count(1)
        self._status: dict[str, ConnectionStatus] = {
            a: ConnectionStatus(a, False, None, "not started", self._by_account[a].index) for a in self.accounts}
        self._last_state: dict[str, AccountState] = {}
        self._status_lock = threading.Lock()
        self._running = False
        self._selector: selectors.BaseSelector | None = None
        self._reader: threading.Thread | None = None
        self._reader_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> TerminalPool:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> TerminalPool:
        if self._running:
            return self
        self._running = True
        for w in self._workers:
            self._spawn(w)
        if self.connect_on_start:
            futures = [(a, self.submit(a, "connect", retry=False)) for a in self.accounts]
            for a, f in futures:
                try:
                    f.result(self.request_timeout)
                except Exception as exc:
                    log.warning("account %s did not connect at start: %s", a, exc)
        return self

    def stop(self) -> None:
        self._running = False
        for w in self._workers:
            with w.lock:
                conn, runner = w.conn, w.runner
                w.alive = False
            if conn is None:
                continue
            try:
                conn.send(None)
            except (EOFError, OSError):
                pass
            if runner is not None:
                runner.join(10)
                if isinstance(runner, mp.process.BaseProcess) and runner.is_alive():
                    runner.kill()
                    runner.join(5)
            self._fail_pending(w, BrokerUnavailable("pool stopped"))
        with self._reader_lock:
            if self._selector is not None:
                for key in list(self._selector.get_map().values()):
                    self._selector.unregister(key.fileobj)

    def _env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k.startswith(("MULTIACCOUNT_", "MT5_"))}

    def _spawn(self, w: _Worker) -> None:
        if self.mode == "process":
            ctx = mp.get_context("forkserver")
            parent, child = ctx.Pipe()
            runner = ctx.Process(target=_process_main, name=f"mt5-terminal-{w.index}", daemon=True,
                                 args=(w.index, self.factory, child, self.attempts, self.backoff, self._env()))
            runner.start()
            child.close()
            with w.lock:
                w.conn, w.runner, w.alive = parent, runner, True
            self._watch(w, parent, runner)
        else:
            inbox: queue.Queue = queue.Queue()
            parent = _QueueConn(queue.Queue(), inbox)
            child = _DirectConn(inbox, partial(self._deliver, w))
            runner = threading.Thread(target=_worker_loop, name=f"mt5-terminal-{w.index}", daemon=True,
                                      args=(w.index, self.factory, child, self.attempts, self.backoff))
            with w.lock:
                w.conn, w.runner, w.alive = parent, runner, True
            runner.start()

    # -- process workers: one reader thread for every pipe
    def _watch(self, w: _Worker, conn: Any, runner: Any) -> None:
        """Have the reader thread (started on first use) deliver this worker's replies.

        One thread waits on every pipe through epoll, instead of one blocked thread per worker:
        when 50 replies land together they are handled in a few wake-ups, not 50 GIL hand-overs."""
        with self._reader_lock:
            if self._selector is None:
                self._selector = selectors.DefaultSelector()
            self._selector.register(conn, selectors.EVENT_READ, (w, runner))
            if self._reader is None or not self._reader.is_alive():
                self._reader = threading.Thread(target=self._read_all, name="pool-reader", daemon=True)
                self._reader.start()

    def _read_all(self) -> None:
        selector = self._selector
        assert selector is not None
        while self._running:
            for key, _ in selector.select(timeout=0.5):
                conn, (w, runner) = key.fileobj, key.data
                try:
                    while True:
                        self._deliver(w, conn.recv())
                        if not conn.poll():
                            break
                except (EOFError, OSError, TypeError, ValueError):
                    with self._reader_lock, suppress(KeyError, ValueError):
                        selector.unregister(conn)
                    if self._running and w.runner is runner:
                        with w.lock:
                            w.alive = False
                        threading.Thread(target=self._crashed, args=(w, runner), name=f"pool-restart-{w.index}",
                                         daemon=True).start()

    def _deliver(self, w: _Worker, message: tuple) -> None:
        """Resolve the caller's Future with one worker reply `(req_id, reply, login_switches)`."""
        req_id, reply, switches = message
        w.login_switches = switches
        with w.lock:
            entry = w.pending.pop(req_id, None)
        if entry is None:
            return
        fut, account_id, method = entry
        if reply[0] == "ok":
            self._mark(account_id, True, "")
            fut.set_result(reply[1])
        else:
            exc_cls = _ERRORS.get(reply[1], BrokerError)
            exc = exc_cls(reply[2]) if exc_cls is not BrokerError else BrokerError(f"{reply[1]}: {reply[2]}")
            if isinstance(exc, BrokerUnavailable):
                self._mark(account_id, False, str(exc))
            fut.set_exception(exc)

    def _crashed(self, w: _Worker, runner: Any) -> None:
        with w.lock:
            w.alive = False
        if hasattr(runner, "join"):
            runner.join(2)
        code = getattr(runner, "exitcode", None)
        log.error("terminal worker %s died (exit code %s); restarting; accounts %s", w.index, code, w.accounts)
        self._fail_pending(w, WorkerCrashed(f"terminal worker {w.index} crashed (exit code {code})"))
        if w.restarts >= MAX_RESTARTS:
            log.critical("terminal worker %s crashed %s times: not restarting it", w.index, w.restarts)
            for a in w.accounts:
                self._mark(a, False, f"worker {w.index} keeps crashing (exit code {code}); gave up")
            return
        self._spawn(w)
        w.restarts += 1
        for a in w.accounts:
            self._mark(a, False, f"worker {w.index} crashed (exit code {code}); restarted", restarts=w.restarts)
        if self.events is not None:
            self.events.publish(DomainEvent(kind="terminal_restarted", severity=Severity.WARNING, scope=Scope.firm(),
                                            title=f"Terminal worker {w.index} crashed and was restarted",
                                            detail=f"exit code {code}; accounts: {', '.join(w.accounts)}",
                                            data={"worker": w.index, "accounts": list(w.accounts)}))

    def _fail_pending(self, w: _Worker, exc: Exception) -> None:
        with w.lock:
            pending, w.pending = w.pending, {}
        for fut, _a, _m in pending.values():
            if not fut.done():
                fut.set_exception(exc)

    def _mark(self, account_id: str, connected: bool, error: str, restarts: int | None = None) -> None:
        now = self.clock.now()
        with self._status_lock:
            old = self._status[account_id]
            since = old.since if (old.connected == connected and old.since is not None) else now
            self._status[account_id] = ConnectionStatus(account_id, connected, since, error if not connected else "",
                                                        old.worker, old.restarts if restarts is None else restarts)
        if old.connected and not connected and self.events is not None:
            self.events.publish(DomainEvent(kind="connection_failure", severity=Severity.WARNING,
                                            scope=Scope.account(account_id), title=f"{account_id} disconnected",
                                            detail=error, at=now))

    # ------------------------------------------------------------ requests
    def submit(self, account_id: str, method: str, *args: Any, retry: bool = True, **kwargs: Any) -> Future:
        """Queue one broker call on the account's terminal; the Future holds its result or exception."""
        fut: Future = Future()
        w = self._by_account.get(account_id)
        if w is None:
            fut.set_exception(KeyError(f"account {account_id!r} is not in this pool"))
            return fut
        if not self._running:
            fut.set_exception(BrokerUnavailable("terminal pool is not running"))
            return fut
        req_id = next(self._ids)
        with w.lock:
            if not w.alive or w.conn is None:
                fut.set_exception(BrokerUnavailable(f"terminal worker {w.index} is restarting"))
                return fut
            w.pending[req_id] = (fut, account_id, method)
            try:
                w.conn.send((req_id, self.clock.now(), account_id, method, args, kwargs, retry))
            except (EOFError, OSError, BrokenPipeError) as exc:
                w.pending.pop(req_id, None)
                fut.set_exception(WorkerCrashed(f"terminal worker {w.index}: {exc}"))
        return fut

    def call(self, account_id: str, method_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call one Broker method for one account and wait (raises what the broker raised)."""
        return self.submit(account_id, method_name, *args, **kwargs).result(self.request_timeout)

    def account_states(self) -> dict[str, AccountState]:
        return self._states_of({a: self.submit(a, "account_state", retry=False) for a in self.accounts})

    def positions(self) -> dict[str, list[Position]]:
        """Open positions of every reachable account (unreachable ones are absent; see `status()`)."""
        return self._positions_of({a: self.submit(a, "positions", retry=False) for a in self.accounts})

    def read(self, accounts: Iterable[str] | None = None) -> tuple[dict[str, AccountState], dict[str, list[Position]]]:
        """States and positions of `accounts` (all when None), both requests queued together, so each
        worker answers them in one batch: one fan-out instead of two in a row."""
        ids = self.accounts if accounts is None else [a for a in accounts if a in self._by_account]
        requests = {a: (self.submit(a, "account_state", retry=False), self.submit(a, "positions", retry=False))
                    for a in ids}
        return (self._states_of({a: f for a, (f, _) in requests.items()}),
                self._positions_of({a: f for a, (_, f) in requests.items()}))

    def _states_of(self, futures: dict[str, Future]) -> dict[str, AccountState]:
        out: dict[str, AccountState] = {}
        for a, f in futures.items():
            try:
                state = f.result(self.request_timeout)
                self._last_state[a] = state
                out[a] = state
            except Exception as exc:
                self._mark(a, False, str(exc)) if isinstance(exc, BrokerUnavailable) else None
                last = self._last_state.get(a)
                out[a] = replace(last, connected=False, at=self.clock.now()) if last else AccountState(
                    account_id=a, balance=0.0, equity=0.0, margin=0.0, margin_free=0.0, margin_level=None,
                    connected=False, at=self.clock.now())
        return out

    def _positions_of(self, futures: dict[str, Future]) -> dict[str, list[Position]]:
        out: dict[str, list[Position]] = {}
        for a, f in futures.items():
            try:
                out[a] = f.result(self.request_timeout)
            except Exception as exc:
                log.warning("positions of %s unavailable: %s", a, exc)
        return out

    def send_many(self, intents: list[OrderIntent]) -> list[OrderOutcome]:
        """Send every intent concurrently (each terminal serves its accounts in turn); one outcome each."""
        futures = [self.submit(i.account_id, "send", i) for i in intents]
        return [self._outcome_of(i.client_id, i.account_id, f) for i, f in zip(intents, futures)]

    def _outcome_of(self, client_id: str, account_id: str, fut: Future) -> OrderOutcome:
        try:
            return fut.result(self.request_timeout)
        except WorkerCrashed as exc:
            return OrderOutcome(client_id, account_id, OrderStatus.UNKNOWN, None,
                                f"UNKNOWN_OUTCOME: {exc}; reconcile before any resend")
        except BrokerUnavailable as exc:  # raised before order_send: nothing was sent
            return OrderOutcome(client_id, account_id, OrderStatus.REJECTED, rc.CONNECTION,
                                f"CONNECTION: not sent, {exc}")
        except KeyError as exc:
            return OrderOutcome(client_id, account_id, OrderStatus.REJECTED, rc.INVALID, f"INVALID: {exc}")
        except Exception as exc:  # timeout or a bug: the order may have gone out
            return OrderOutcome(client_id, account_id, OrderStatus.UNKNOWN, None,
                                f"UNKNOWN_OUTCOME: {type(exc).__name__}: {exc}; reconcile before any resend")

    def close_positions(self, account_id: str, tickets: Iterable[int] | None = None,
                        client_prefix: str = "close") -> list[OrderOutcome]:
        """Close the account's positions (all, or the given tickets); ids are deterministic per ticket."""
        try:
            open_positions = self.call(account_id, "positions")
        except Exception as exc:
            return [OrderOutcome(f"{client_prefix}:{account_id}", account_id, OrderStatus.REJECTED, rc.CONNECTION,
                                 f"CONNECTION: positions unavailable, {exc}")]
        wanted = set(tickets) if tickets is not None else None
        futures = []
        for p in open_positions:
            if wanted is not None and p.ticket not in wanted:
                continue
            cid = client_order_id(f"{client_prefix}:{p.ticket}", account_id, "close")
            futures.append((cid, self.submit(account_id, "close", p.ticket, None, cid)))
        return [self._outcome_of(cid, account_id, f) for cid, f in futures]

    # ------------------------------------------------------------ observation
    def status(self) -> dict[str, ConnectionStatus]:
        with self._status_lock:
            return dict(self._status)

    def connected_count(self) -> tuple[int, int]:
        s = self.status()
        return sum(1 for v in s.values() if v.connected), len(s)

    def login_switches(self) -> int:
        return sum(w.login_switches for w in self._workers)

    def worker_of(self, account_id: str) -> int:
        return self._by_account[account_id].index

    def worker_pids(self) -> dict[int, int | None]:
        return {w.index: getattr(w.runner, "pid", None) for w in self._workers}

    def wait_restarted(self, index: int, restarts: int, timeout: float = 30.0) -> bool:
        """Test/ops helper: wait until worker `index` has been restarted `restarts` times."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._workers[index].restarts >= restarts and self._workers[index].alive:
                return True
            time.sleep(0.02)
        return False
