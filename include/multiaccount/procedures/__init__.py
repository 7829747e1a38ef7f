"""Operational procedures (seed: daily startup, end of day, rebalancing, backup, monthly review).

Each procedure is a module of small step functions. A step takes a `RunInfo` dict (and primitives),
returns a JSON-able summary, and is safe to rerun: it reads the terminals into the store, computes
with the real packages (risk, rebalancing, lifecycle, performance, reports, store backup,
checklists), and writes only under keys derived from the trading day (orders by deterministic
client id, the day's transfer plan, report index rows, the day's backup, step records in the
store's kv). The Airflow DAGs call one step per task; the CLI (`multiaccount run <procedure>`)
calls them in order. Nothing here imports Airflow (that lives in `multiaccount.airflow`).
"""
