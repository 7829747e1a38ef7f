"""Signal routing: eligibility, failover, sizing, pre-trade checks, idempotent fan-out."""

from multiaccount.routing.eligibility import Eligibility, Target, eligible_accounts
from multiaccount.routing.pool import BrokerPool
from multiaccount.routing.router import AccountResult, RoutingReport, SignalRouter
from multiaccount.routing.signals import parse_signal

__all__ = ["AccountResult", "BrokerPool", "Eligibility", "RoutingReport", "SignalRouter", "Target",
           "eligible_accounts", "parse_signal"]
