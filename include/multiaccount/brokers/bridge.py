"""The rpyc bridge: the MetaTrader5 API across a socket, the way mt5linux reaches a terminal under Wine.

Server side (`serve()` / `python -m multiaccount.brokers.bridge`): a *classic* rpyc server (default
port 18812) in whose namespace `import MetaTrader5 as mt5` resolves to the real package, or to
`multiaccount.brokers.simulated` when no real one is installed (or `--module` says so).

Client side (`RpycMT5`): an object with the MetaTrader5 functions, passed to `MT5Broker` like the
module itself. Each call is one round trip to a small helper installed in the server namespace:
arguments travel pickled (no code strings, so NaN and datetimes survive), results come back as plain
tuples and are rebuilt as namedtuples here, because the real package's result types are not
importable on Linux. A transport failure becomes what the real API reports for a lost terminal:
None with `last_error() == (-10004, "No IPC connection")` (or -10005 on a timeout).
Only loopback or the project's own hosts are ever targeted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pickle
import sys
import threading
from collections import namedtuple
from functools import partial
from typing import Any

import rpyc
from rpyc.core.service import ClassicService
from rpyc.utils.server import ThreadedServer

from multiaccount.brokers import retcodes as rc
from multiaccount.domain.clock import Clock

log = logging.getLogger(__name__)

DEFAULT_PORT = 18812
DEFAULT_HOST = "127.0.0.1"
API = frozenset({
    "initialize", "login", "shutdown", "last_error", "version", "terminal_info", "account_info", "symbols_total",
    "symbols_get", "symbol_info", "symbol_info_tick", "symbol_select", "positions_total", "positions_get",
    "orders_total", "orders_get", "history_deals_get", "history_orders_get", "order_calc_margin",
    "order_calc_profit", "order_check", "order_send"})
SIM_ONLY = frozenset({"balance_operation", "client_order_lookup"})

_SERVER_HELPER = '''
import pickle as _ma_pickle
import MetaTrader5 as mt5

def _ma_plain(x):
    if hasattr(x, "_asdict"):
        return ("__nt__", type(x).__name__, tuple(x._asdict().keys()), tuple(_ma_plain(v) for v in x))
    if isinstance(x, tuple):
        return tuple(_ma_plain(v) for v in x)
    return x

def _ma_call(name, payload, now_iso=None):
    args, kwargs = _ma_pickle.loads(payload)
    if now_iso is not None and hasattr(mt5, "set_time"):
        mt5.set_time(now_iso)
    return _ma_pickle.dumps(_ma_plain(getattr(mt5, name)(*args, **kwargs)))
'''

_types: dict[tuple[str, tuple[str, ...]], type] = {}


def _rebuild(x: Any) -> Any:
    if isinstance(x, tuple):
        if len(x) == 4 and x[0] == "__nt__":
            _, name, fields, values = x
            cls = _types.get((name, fields))
            if cls is None:
                cls = _types[(name, fields)] = namedtuple(name, fields)
            return cls(*(_rebuild(v) for v in values))
        return tuple(_rebuild(v) for v in x)
    return x


class RpycMT5:
    """The MetaTrader5 API of a remote terminal over a classic rpyc connection."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout: float = 60.0,
                 clock: Clock | None = None, simulated: bool = False):
        self.host, self.port, self.timeout = host, port, timeout
        self.clock = clock  # a simulated server follows the caller's clock
        self.simulated = simulated
        self._conn: Any = None
        self._local_error: tuple[int, str] | None = None
        self._lock = threading.RLock()

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = rpyc.classic.connect(self.host, self.port)
            conn._config["sync_request_timeout"] = self.timeout
            conn.execute(_SERVER_HELPER)
            self._conn = conn
        return self._conn

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if name == "last_error" and self._local_error is not None:
                return self._local_error
            try:
                conn = self._connection()
                now = self.clock.now().isoformat() if (self.clock is not None and self.simulated) else None
                raw = conn.namespace["_ma_call"](name, pickle.dumps((args, kwargs)), now)
            except (TimeoutError, rpyc.AsyncResultTimeout) as exc:
                return self._lost(rc.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout", exc)
            except (EOFError, OSError, ConnectionError) as exc:
                return self._lost(rc.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection", exc)
            self._local_error = None
            return _rebuild(pickle.loads(bytes(raw)))

    def _lost(self, code: int, message: str, exc: BaseException) -> None:
        log.warning("rpyc bridge %s:%s lost: %s: %s", self.host, self.port, type(exc).__name__, exc)
        self._local_error = (code, message)
        self.close()
        return None

    def __getattr__(self, name: str) -> Any:
        if name in API or (self.simulated and name in SIM_ONLY):
            return partial(self._call, name)
        raise AttributeError(name)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except Exception:  # already gone
                    pass
                self._conn = None


def _install_module(module: str | None) -> str:
    """Make `import MetaTrader5` work in the server: the real package if present, else the named module."""
    if module is None:
        try:
            importlib.import_module("MetaTrader5")
            return "MetaTrader5"
        except ImportError:
            module = "multiaccount.brokers.simulated"
    sys.modules["MetaTrader5"] = importlib.import_module(module)
    return module


def serve(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, module: str | None = None,
          background: bool = False) -> ThreadedServer:
    """Start a classic rpyc server exposing the MetaTrader5 API (in a daemon thread when `background`)."""
    used = _install_module(module)
    server = ThreadedServer(ClassicService, hostname=host, port=port, reuse_addr=True,
                            protocol_config={"sync_request_timeout": 60}, logger=logging.getLogger("rpyc.bridge"))
    log.info("rpyc MetaTrader5 bridge on %s:%s serving %s", host, server.port, used)
    if background:
        server._listen()  # listening before we return, so a client may connect at once
        threading.Thread(target=server.start, name=f"rpyc-bridge-{server.port}", daemon=True).start()
    else:
        server.start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the MetaTrader5 API over classic rpyc (mt5linux style)")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--module", default=None, help="module to serve as MetaTrader5 (default: real, else simulated)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    used = _install_module(args.module)
    if args.seed is not None and used == "multiaccount.brokers.simulated":
        importlib.import_module(used).configure(seed=args.seed)
    serve(args.port, args.host, used)


if __name__ == "__main__":
    main()
