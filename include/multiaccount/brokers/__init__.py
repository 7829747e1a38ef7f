"""Broker layer: the `Broker` port, the MT5 adapter, the simulated terminal, the rpyc bridge and the pool.

Import the pieces from their modules (`multiaccount.brokers.port`, `.mt5`, `.pool`, `.factory`); this
package keeps its import light so `import multiaccount.brokers.simulated as mt5` stays cheap.
"""

from multiaccount.brokers.port import (
    Broker,
    BrokerError,
    BrokerUnavailable,
    ConnectionStatus,
    Deal,
    DealEntry,
    PendingOrder,
    SymbolInfo,
    TransferNotSupported,
)

__all__ = ["Broker", "BrokerError", "BrokerUnavailable", "ConnectionStatus", "Deal", "DealEntry", "PendingOrder",
           "SymbolInfo", "TransferNotSupported"]
