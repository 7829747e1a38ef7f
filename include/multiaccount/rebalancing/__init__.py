"""Rebalancing: target capital per group and account, drift, transfer plans, idempotent execution.

Pure planning lives in `targets` and `planner`; `executor` runs a plan against brokers and a transfer
repository; `service` is the thin glue to the store used by the CLI and procedures.
"""

from multiaccount.rebalancing.model import (
    AccountCapital,
    RiskReduction,
    Transfer,
    TransferPlan,
    cents,
    transfer_id,
)
from multiaccount.rebalancing.planner import greedy_transfers, plan_emergency, plan_transfers
from multiaccount.rebalancing.targets import account_targets, drift, drifts, group_drifts, group_targets

__all__ = [
    "AccountCapital", "RiskReduction", "Transfer", "TransferPlan", "account_targets", "cents", "drift", "drifts",
    "greedy_transfers", "group_drifts", "group_targets", "plan_emergency", "plan_transfers", "transfer_id",
]
