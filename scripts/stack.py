#!/usr/bin/env python3
"""Run the production Airflow stack as plain processes, without containers.

Same shape as docker-compose.yaml: api-server, scheduler, dag-processor, triggerer and Celery workers
(CeleryExecutor) against the PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) this machine
already runs, plus optionally the realtime service and the dashboard. State lives in
`var/stack/` (AIRFLOW_HOME, logs, pid files, stack.env).

    python scripts/stack.py up [--workers 1] [--port 8080] [--with-serve] [--with-dashboard]
    python scripts/stack.py status
    python scripts/stack.py down
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"


def stack_dir() -> Path:
    return Path(os.environ.get("MULTIACCOUNT_STACK_DIR") or ROOT / "var" / "stack")


def stack_env(port: int, db_name: str, redis_db: int) -> dict[str, str]:
    """The environment every component shares (same JWT secret, same execution API URL)."""
    d = stack_dir()
    saved = d / "secrets.json"
    if saved.exists():
        keys = json.loads(saved.read_text())
    else:
        keys = {"jwt": secrets.token_urlsafe(32), "api_token": secrets.token_urlsafe(24)}
        d.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(keys))
        saved.chmod(0o600)
    mhome = d / "multiaccount"
    return {
        "AIRFLOW_HOME": str(d / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{PG}/{db_name}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{PG}/{db_name}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": os.environ.get("MULTIACCOUNT_STACK_DAGS", str(ROOT / "dags")),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(d / "passwords.json"),
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "MULTIACCOUNT_HOME": str(mhome),
        "MULTIACCOUNT_DB_URL": f"{PG}/{db_name}_store",
        "MULTIACCOUNT_API_TOKEN": keys["api_token"],
    }


COMPONENTS = {
    "api-server": ["airflow", "api-server"],
    "scheduler": ["airflow", "scheduler"],
    "dag-processor": ["airflow", "dag-processor"],
    "triggerer": ["airflow", "triggerer"],
}


def _pids() -> dict[str, int]:
    f = stack_dir() / "pids.json"
    return json.loads(f.read_text()) if f.exists() else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _ensure_database(name: str) -> None:
    import psycopg2  # installed with the project

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname=%s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _drop_database(name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise SystemExit(f"timed out waiting for {url}")


def up(args: argparse.Namespace) -> None:
    d = stack_dir()
    running = {k: p for k, p in _pids().items() if _alive(p)}
    if running:
        raise SystemExit(f"stack already running: {running}; run `down` first")
    env = {**os.environ, **stack_env(args.port, args.db, args.redis_db), "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    (d / "logs").mkdir(parents=True, exist_ok=True)
    (d / "stack.env").write_text("".join(f"export {k}={v!r}\n" for k, v in stack_env(
        args.port, args.db, args.redis_db).items()))
    print(f"[stack] databases {args.db} and {args.db}_store on 127.0.0.1:5432")
    _ensure_database(args.db)
    _ensure_database(f"{args.db}_store")
    print("[stack] airflow db migrate ...", flush=True)
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=open(d / "logs" / "migrate.log", "w"))
    pool_size = str(args.pool_size)
    subprocess.run(["airflow", "pools", "set", "mt5_terminals", pool_size, "MT5 terminal workers"], env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if (VENV_BIN / "multiaccount").exists():
        subprocess.run(["multiaccount", "db", "upgrade"], env=env, check=False, stdout=subprocess.DEVNULL,
                       stderr=open(d / "logs" / "store-upgrade.log", "w"))
    cmds = dict(COMPONENTS)
    for i in range(args.workers):
        cmds[f"worker-{i + 1}"] = ["airflow", "celery", "worker", "--concurrency", "4",
                                   "--celery-hostname", f"worker{i + 1}@%h"]
    if args.with_serve:
        cmds["serve"] = ["multiaccount", "serve", "--host", "127.0.0.1", "--port", str(args.serve_port)]
    if args.with_dashboard:
        cmds["dashboard"] = ["multiaccount", "dashboard", "--host", "127.0.0.1", "--port", str(args.dashboard_port)]
    pids = {}
    for name, cmd in cmds.items():
        log = open(d / "logs" / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        pids[name] = proc.pid
        print(f"[stack] {name:<14} pid {proc.pid}")
    (d / "pids.json").write_text(json.dumps(pids))
    _wait_http(f"http://127.0.0.1:{args.port}/api/v2/monitor/health", timeout=180)
    print(f"[stack] up: Airflow UI http://127.0.0.1:{args.port} (admin / see {d / 'passwords.json'}); "
          f"logs in {d / 'logs'}")


def down(args: argparse.Namespace) -> None:
    pids = _pids()
    for name, pid in pids.items():
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in pids.values()):
        time.sleep(0.5)
    for name, pid in pids.items():
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    (stack_dir() / "pids.json").unlink(missing_ok=True)
    if args.drop:
        _drop_database(args.db)
        _drop_database(f"{args.db}_store")
    print(f"[stack] stopped {len(pids)} process(es)")


def status(_: argparse.Namespace) -> None:
    pids = _pids()
    if not pids:
        print("[stack] not running")
    for name, pid in pids.items():
        print(f"{name:<14} pid {pid:<8} {'running' if _alive(pid) else 'DEAD'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up")
    p_up.add_argument("--port", type=int, default=int(os.environ.get("MULTIACCOUNT_STACK_PORT", 8080)))
    p_up.add_argument("--workers", type=int, default=1)
    p_up.add_argument("--pool-size", type=int, default=10)
    p_up.add_argument("--with-serve", action="store_true")
    p_up.add_argument("--serve-port", type=int, default=8787)
    p_up.add_argument("--with-dashboard", action="store_true")
    p_up.add_argument("--dashboard-port", type=int, default=8050)
    for p in (p_up, sub.add_parser("down")):
        p.add_argument("--db", default=os.environ.get("MULTIACCOUNT_STACK_DB", "airflow_stack"))
        p.add_argument("--redis-db", type=int, default=int(os.environ.get("MULTIACCOUNT_STACK_REDIS_DB", 5)))
    sub.choices["down"].add_argument("--drop", action="store_true", help="also drop the stack's databases")
    sub.add_parser("status")
    args = parser.parse_args(argv)
    {"up": up, "down": down, "status": status}[args.cmd](args)


if __name__ == "__main__":
    main()
