"""One repository per concept; all reachable from a `Store` (e.g. `store.orders`)."""

from multiaccount.store.repositories.audit import AuditRepository
from multiaccount.store.repositories.backups import BackupIndexRepository
from multiaccount.store.repositories.checklists import ChecklistRepository
from multiaccount.store.repositories.incidents import IncidentError, IncidentRepository, ViolationRepository
from multiaccount.store.repositories.kv import KVRepository
from multiaccount.store.repositories.monitor import HeartbeatRepository, RiskEventRepository
from multiaccount.store.repositories.orders import SqlOrderLedger
from multiaccount.store.repositories.outbox import Enqueued, OutboxRepository
from multiaccount.store.repositories.performance import PerformanceRepository
from multiaccount.store.repositories.positions import PositionRepository
from multiaccount.store.repositories.reports import ReportRepository
from multiaccount.store.repositories.signals import SignalRepository
from multiaccount.store.repositories.snapshots import SnapshotRepository
from multiaccount.store.repositories.trading_states import SqlTradingStateRepository
from multiaccount.store.repositories.transfers import TransferRepository, TransferSpec, TransferStateError

__all__ = [
    "AuditRepository", "BackupIndexRepository", "ChecklistRepository", "Enqueued", "HeartbeatRepository",
    "IncidentError", "IncidentRepository", "KVRepository", "OutboxRepository", "PerformanceRepository",
    "PositionRepository", "ReportRepository", "RiskEventRepository", "SignalRepository", "SnapshotRepository",
    "SqlOrderLedger", "SqlTradingStateRepository", "TransferRepository", "TransferSpec", "TransferStateError",
    "ViolationRepository",
]
