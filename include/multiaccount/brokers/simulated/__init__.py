"""`multiaccount.brokers.simulated`: the MetaTrader5 Python API over a simulated market.

Importable in place of `MetaTrader5` (`import multiaccount.brokers.simulated as mt5`): module-level
functions act on one default `SimulatedTerminal`, exactly as the real module drives one terminal per
process. Threads or tests that need several terminals in one process build `SimulatedTerminal`
instances, which have the same functions as methods.
"""

from multiaccount.brokers.simulated.constants import *  # noqa: F401,F403
from multiaccount.brokers.simulated.scenarios import Scenario
from multiaccount.brokers.simulated.state import StateStore, reset
from multiaccount.brokers.simulated.terminal import (
    DEFAULT_SEED,
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SimulatedTerminal,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)

__version__ = "5.0.4755-sim"
__author__ = "multiaccount"

_terminal = SimulatedTerminal()


def terminal() -> SimulatedTerminal:
    """The process-wide default terminal behind the module-level functions."""
    return _terminal


configure = _terminal.configure
set_clock = _terminal.set_clock
set_time = _terminal.set_time
initialize = _terminal.initialize
login = _terminal.login
shutdown = _terminal.shutdown
last_error = _terminal.last_error
version = _terminal.version
terminal_info = _terminal.terminal_info
account_info = _terminal.account_info
symbols_total = _terminal.symbols_total
symbols_get = _terminal.symbols_get
symbol_info = _terminal.symbol_info
symbol_info_tick = _terminal.symbol_info_tick
symbol_select = _terminal.symbol_select
positions_total = _terminal.positions_total
positions_get = _terminal.positions_get
orders_total = _terminal.orders_total
orders_get = _terminal.orders_get
history_deals_get = _terminal.history_deals_get
order_calc_margin = _terminal.order_calc_margin
order_calc_profit = _terminal.order_calc_profit
order_check = _terminal.order_check
order_send = _terminal.order_send
balance_operation = _terminal.balance_operation
client_order_lookup = _terminal.client_order_lookup

__all__ = [
    "DEFAULT_SEED", "AccountInfo", "OrderCheckResult", "OrderSendResult", "Scenario", "SimulatedTerminal",
    "StateStore", "SymbolInfo", "TerminalInfo", "Tick", "TradeDeal", "TradeOrder", "TradePosition", "TradeRequest",
    "reset", "terminal",
]
