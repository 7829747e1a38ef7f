"""The store: SQLAlchemy models, Alembic migrations, repositories, backup and restore.

    from multiaccount.store import Store
    store = Store.open()                      # MULTIACCOUNT_DB_URL or <home>/multiaccount.db
    store.trading_states.set(Scope.firm(), TradingState.HALTED, "emergency stop", actor="ops")
    with store.session():                     # one transaction across repositories
        store.audit.record("ops", "resume", "firm")
        store.outbox.enqueue("resume|firm", "info", "#risk", {"text": "resumed"})
"""

from multiaccount.domain.ports import StaleStateError
from multiaccount.store.db import (
    create_database,
    current_revision,
    db_url,
    dispose_engine,
    drop_database,
    get_engine,
    head_revision,
    upgrade,
)
from multiaccount.store.repositories import IncidentError, TransferSpec, TransferStateError
from multiaccount.store.store import Store

__all__ = [
    "IncidentError", "StaleStateError", "Store", "TransferSpec", "TransferStateError", "create_database",
    "current_revision", "db_url", "dispose_engine", "drop_database", "get_engine", "head_revision", "upgrade",
]
