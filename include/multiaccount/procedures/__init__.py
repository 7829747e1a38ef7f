"""Operational procedures (seed: daily startup, end of day, rebalancing, backup, monthly review).

Each procedure is a module of small step functions. A step takes a `RunInfo` dict (and primitives),
returns a JSON-able summary, and is safe to rerun: it reads state, computes, and writes under keys
derived from the trading day (see `ledger.py`). The Airflow DAGs call one step per task; the CLI
(`multiaccount run <procedure>`) calls them in order.
"""
