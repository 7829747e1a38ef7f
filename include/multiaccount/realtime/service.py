"""`multiaccount serve`: one long-running process with the signal API, the 1 Hz monitor and the heartbeat.

Threads: the monitor (1 Hz, `RiskMonitor.run`), alert delivery (every few seconds, so Slack latency
never slows the monitor), and uvicorn serving the API on loopback in the main thread. SIGINT/SIGTERM
stop all three; the store keeps everything needed to resume (states, baseline, events).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from dataclasses import dataclass, field

from multiaccount.realtime.runtime import Runtime

log = logging.getLogger(__name__)

TOKEN_ENV = "MULTIACCOUNT_API_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def api_token() -> str:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if len(token) < 16:
        raise RuntimeError(f"{TOKEN_ENV} must be set (at least 16 characters) before serving")
    return token


def check_loopback(host: str) -> str:
    """The API listens on loopback only: a control plane for trading must not face a network."""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        raise ValueError(f"refusing to listen on {host}: use 127.0.0.1 (put a reverse proxy in front if needed)")
    return host


@dataclass
class BackgroundLoops:
    """The monitor and alert-delivery threads, started and stopped together."""

    rt: Runtime
    hz: float = 1.0
    alert_interval_s: float = 3.0
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.rt.events.flush()  # replay anything buffered before a crash
        self.threads = [threading.Thread(target=self.rt.monitor.run, args=(self.stop, self.hz),
                                         name="risk-monitor", daemon=True),
                        threading.Thread(target=self._deliver_alerts, name="alert-delivery", daemon=True)]
        for t in self.threads:
            t.start()
        log.info("realtime loops started", extra={"hz": self.hz})

    def _deliver_alerts(self) -> None:
        deliver = getattr(self.rt.alerts, "deliver_pending", None)
        if deliver is None:
            return
        while not self.stop.wait(self.alert_interval_s):
            try:
                deliver()
            except Exception:
                log.exception("alert delivery failed")

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout)


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, rt: Runtime | None = None, hz: float = 1.0,
          allow_network: bool = False) -> None:
    """Run until interrupted. Off loopback only when asked explicitly (inside a container, where the
    host publishes the port on its own loopback)."""
    import uvicorn

    from multiaccount.realtime.api import create_app
    from multiaccount.realtime.runtime import build_runtime

    if not allow_network:
        check_loopback(host)
    token = api_token()
    rt = rt or build_runtime()
    rt.warm_up()  # router built, fleet read, queries compiled, startup objects frozen for the GC
    loops = BackgroundLoops(rt, hz=hz)
    loops.start()
    try:
        uvicorn.run(create_app(rt, token), host=host, port=port, log_level="warning", access_log=False,
                    server_header=False)
    finally:
        loops.shutdown()
        log.info("realtime service stopped")
