"""`build_alerts(firm, store)`: the one place the alert service is wired from config and environment."""

from __future__ import annotations

import logging
import os
from typing import Any

from multiaccount.alerts.messages import RenderContext
from multiaccount.alerts.outbox import AlertOutbox, InMemoryOutbox
from multiaccount.alerts.service import AlertService
from multiaccount.alerts.store_outbox import StoreOutbox
from multiaccount.alerts.transport import SlackCredentials, Transport, build_transport
from multiaccount.domain import Clock

log = logging.getLogger(__name__)


def outbox_for(store: Any | None) -> AlertOutbox:
    """The store's durable outbox when there is a store; in memory otherwise (said in the log)."""
    if store is None:
        log.warning("no store: alerts are kept in memory and will not survive a restart")
        return InMemoryOutbox()
    if hasattr(store, "claim_due") and hasattr(store, "thread_root"):
        return store  # already an AlertOutbox
    return StoreOutbox.from_store(store)


def credentials_for(firm: Any, environ: dict[str, str] | None = None) -> SlackCredentials:
    slack = firm.alerts.slack
    return SlackCredentials.from_env(slack.bot_token_env, slack.webhook_url_env, environ)


def build_alerts(firm: Any, store: Any | None = None, *, clock: Clock | None = None,
                 transport: Transport | None = None, environ: dict[str, str] | None = None) -> AlertService:
    """Alert service for `firm`: outbox in `store`, Slack from the environment (or the log when unset)."""
    transport = transport or build_transport(credentials_for(firm, environ))
    service = AlertService(outbox_for(store), transport, firm.alerts, RenderContext.from_firm(firm), clock=clock)
    log.info("alerts: delivering via %s", transport.name)
    return service


def build_from_env(clock: Clock | None = None) -> AlertService:
    """Firm from `MULTIACCOUNT_CONFIG_DIR`/config, store from `MULTIACCOUNT_DB_URL`/default."""
    from multiaccount.config import load_firm

    store = None
    try:
        from multiaccount.store import Store  # type: ignore[attr-defined]

        store = Store.open(os.environ.get("MULTIACCOUNT_DB_URL") or None)
    except ImportError as exc:
        log.warning("store unavailable (%s)", exc)
    return build_alerts(load_firm(), store, clock=clock)
