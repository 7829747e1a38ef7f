"""Secrets come only from the environment: `${VAR}` references resolve here, values never leave as text."""

from __future__ import annotations

import os

from pydantic import SecretStr

BROKER_ENV = "MULTIACCOUNT_BROKER"


class MissingSecret(Exception):
    """A referenced secret is not set in the environment; needs a human."""

    def __init__(self, var: str):
        self.var = var
        super().__init__(f"environment variable {var} is not set")


def broker_mode() -> str:
    """`simulated` (default), `mt5` (the MetaTrader5 package) or `mt5linux` (rpyc bridge)."""
    return os.environ.get(BROKER_ENV, "simulated").strip().lower() or "simulated"


def resolve_secret(reference: str) -> SecretStr:
    """Resolve `${VAR}` from the environment; the result prints as '**********'."""
    if not (reference.startswith("${") and reference.endswith("}")):
        raise ValueError("secret must be an ${ENV} reference")
    var = reference[2:-1]
    value = os.environ.get(var)
    if not value:
        raise MissingSecret(var)
    return SecretStr(value)
