"""Build brokers and pools for the configured broker mode (`MULTIACCOUNT_BROKER`).

- `simulated` (default): `SimulatedTerminal`s on the shared simulated state (`MULTIACCOUNT_HOME/sim/`);
- `mt5`: the real `MetaTrader5` package, one terminal per worker process (Windows);
- `mt5linux`: an rpyc bridge per terminal, `MULTIACCOUNT_MT5LINUX_HOST` (default 127.0.0.1) and ports
  `MULTIACCOUNT_MT5LINUX_PORT` (default 18812) + terminal index.

Factories are small picklable dataclasses so process workers can rebuild brokers on their side.
Passwords come from `resolve_secret` at connection time, in the worker, and are never logged.
Every broker built here holds a `ClientIdLock` on `MULTIACCOUNT_HOME/locks/`, so processes sharing
a data folder never send one client id twice to one account.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from multiaccount import paths
from multiaccount.brokers.mt5 import DEFAULT_MAGIC, ClientIdLock, MT5Broker, TerminalSession
from multiaccount.brokers.pool import RequestClock, TerminalPool, WorkerContext
from multiaccount.brokers.simulated.scenarios import Scenario
from multiaccount.config import FirmConfig, MissingSecret, broker_mode, load_firm, resolve_secret
from multiaccount.domain.clock import Clock

HOST_ENV = "MULTIACCOUNT_MT5LINUX_HOST"
PORT_ENV = "MULTIACCOUNT_MT5LINUX_PORT"
LOCK_DIR = "locks"  # per-login client-id locks (see mt5.ClientIdLock), under the data folder

_firms: dict[str, FirmConfig] = {}
_firms_lock = threading.Lock()


def _firm(root: str) -> FirmConfig:
    with _firms_lock:
        if root not in _firms:
            _firms[root] = load_firm(root)
        return _firms[root]


def _password(firm: FirmConfig, account_id: str, required: bool) -> SecretStr | None:
    try:
        return resolve_secret(firm.accounts[account_id].account_info.mt5_password)
    except MissingSecret:
        if required:
            raise
        return None


def _client_id_lock(ctx: WorkerContext, home: str | Path | None = None) -> ClientIdLock:
    """One per worker, on the data folder's `locks/`: shared by every process using that folder."""
    lock = ctx.shared.get("client_id_lock")
    if lock is None:
        lock = ctx.shared["client_id_lock"] = ClientIdLock(Path(home or paths.home()) / LOCK_DIR)
    return lock


def _broker(firm: FirmConfig, account_id: str, session: TerminalSession, clock: Clock, required: bool,
            magic: int, lock: ClientIdLock | None = None) -> MT5Broker:
    info = firm.accounts[account_id].account_info
    return MT5Broker(account_id, session=session, login=info.mt5_login, server=info.mt5_server,
                     password=_password(firm, account_id, required), clock=clock, magic=magic, client_id_lock=lock)


@dataclass(frozen=True)
class SimulatedBrokerFactory:
    """Brokers on simulated terminals (one `SimulatedTerminal` per worker)."""

    config_root: str
    home: str
    seed: int | None = None
    scenario_json: str | None = None  # explicit scenario; None = the shared sim/scenario.json
    magic: int = DEFAULT_MAGIC

    def __call__(self, account_id: str, ctx: WorkerContext) -> MT5Broker:
        from multiaccount.brokers.simulated import SimulatedTerminal, StateStore

        firm = _firm(self.config_root)
        session = ctx.shared.get("session")
        if session is None:
            scenario = Scenario.model_validate_json(self.scenario_json) if self.scenario_json else None
            terminal = SimulatedTerminal(firm, seed=self.seed, scenario=scenario, clock=ctx.clock,
                                         store=StateStore(Path(self.home) / "sim"))
            session = ctx.shared["session"] = TerminalSession(terminal)
        return _broker(firm, account_id, session, ctx.clock, required=False, magic=self.magic,
                       lock=_client_id_lock(ctx, self.home))


@dataclass(frozen=True)
class MT5ModuleFactory:
    """Brokers on the real MetaTrader5 package: one terminal per worker process (use mode='process')."""

    config_root: str
    module: str = "MetaTrader5"
    magic: int = DEFAULT_MAGIC

    def __call__(self, account_id: str, ctx: WorkerContext) -> MT5Broker:
        firm = _firm(self.config_root)
        session = ctx.shared.get("session")
        if session is None:
            path = firm.accounts[account_id].account_info.terminal_path
            session = ctx.shared["session"] = TerminalSession(importlib.import_module(self.module), path=path)
        return _broker(firm, account_id, session, ctx.clock, required=True, magic=self.magic,
                       lock=_client_id_lock(ctx))


@dataclass(frozen=True)
class RpycBrokerFactory:
    """Brokers over the rpyc bridge: terminal i listens on `base_port + i` (mt5linux under Wine)."""

    config_root: str
    host: str = "127.0.0.1"
    base_port: int = 18812
    simulated: bool = False
    magic: int = DEFAULT_MAGIC

    def __call__(self, account_id: str, ctx: WorkerContext) -> MT5Broker:
        from multiaccount.brokers.bridge import RpycMT5

        firm = _firm(self.config_root)
        session = ctx.shared.get("session")
        if session is None:
            client = RpycMT5(self.host, self.base_port + ctx.index, clock=ctx.clock, simulated=self.simulated)
            session = ctx.shared["session"] = TerminalSession(client)
        return _broker(firm, account_id, session, ctx.clock, required=not self.simulated, magic=self.magic,
                       lock=_client_id_lock(ctx))


def _scenario_json(scenario: Scenario | str | Path | None) -> str | None:
    if scenario is None:
        return None
    if isinstance(scenario, Scenario):
        return scenario.model_dump_json()
    return Scenario.load(scenario).model_dump_json()


def make_factory(firm: FirmConfig, mode: str | None = None, seed: int | None = None,
                 scenario: Scenario | str | Path | None = None) -> Any:
    mode = (mode or broker_mode()).lower()
    root = str(firm.root)
    if mode == "simulated":
        return SimulatedBrokerFactory(root, str(paths.home()), seed, _scenario_json(scenario))
    if mode == "mt5":
        return MT5ModuleFactory(root)
    if mode == "mt5linux":
        return RpycBrokerFactory(root, os.environ.get(HOST_ENV, "127.0.0.1"), int(os.environ.get(PORT_ENV, 18812)))
    raise ValueError(f"unknown broker mode {mode!r}: use simulated, mt5 or mt5linux")


def build_pool(firm: FirmConfig, clock: Clock | None = None, mode: str | None = None, seed: int | None = None,
               scenario: Scenario | str | Path | None = None, *, pool_mode: str | None = None,
               size: int | None = None, **pool_kwargs: Any) -> TerminalPool:
    """A (not yet started) TerminalPool for the configured broker mode.

    `mode` is the broker mode (simulated / mt5 / mt5linux); `pool_mode` chooses process or thread
    workers (default: process, except thread for simulated terminals, which is faster and equivalent)."""
    broker = (mode or broker_mode()).lower()
    factory = make_factory(firm, broker, seed, scenario)
    workers = pool_mode or ("thread" if broker == "simulated" else "process")
    return TerminalPool(firm, factory, size=size, mode=workers, clock=clock, **pool_kwargs)


def build_broker(firm: FirmConfig, account_id: str, clock: Clock | None = None, mode: str | None = None,
                 seed: int | None = None, scenario: Scenario | str | Path | None = None, *,
                 context: WorkerContext | None = None) -> MT5Broker:
    """One broker for one account in this process (CLI, scripts). Not connected yet.

    Brokers built with the same `context` share one terminal session: the MT5 API drives one terminal
    per process, so every account a process touches must go through that one session (which tracks
    the logged-in account and switches logins), never through independent sessions."""
    factory = make_factory(firm, mode, seed, scenario)
    broker = factory(account_id, context or WorkerContext(0, RequestClock()))
    if clock is not None:
        # follow the caller's clock directly: the terminal and the adapter read it on every call
        terminal = broker.session.module
        if hasattr(terminal, "set_clock"):
            terminal.set_clock(clock)
        elif hasattr(terminal, "clock"):
            terminal.clock = clock
        broker.clock = clock
    return broker
