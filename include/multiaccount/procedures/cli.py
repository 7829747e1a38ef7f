"""`multiaccount run <procedure>`: run a procedure's steps in order without Airflow (same functions)."""

from __future__ import annotations

from typing import Any

import typer

from multiaccount.procedures.calendar import END_OF_DAY_AT, MONTHLY_REVIEW_AT, STARTUP_AT


def _steps(name: str, run: dict[str, Any]) -> list[tuple[str, Any]]:
    """(step name, thunk) pairs mirroring the DAG's tasks."""
    from multiaccount.procedures import backup as b
    from multiaccount.procedures import daily_startup as d
    from multiaccount.procedures import end_of_day as e
    from multiaccount.procedures import monthly_review as m
    from multiaccount.procedures import rebalance as rb

    accounts = run["accounts"]
    if name == "daily-startup":
        results: list[dict] = []

        def connect_all() -> dict:
            for a in accounts:
                try:
                    results.append(d.verify_connection(run, a))
                except Exception as exc:  # noqa: BLE001 - reported by summarize_connections
                    results.append({"account_id": a, "connected": False, "error": str(exc)})
            return {"attempted": len(accounts)}
        return [("verify_connections", connect_all), ("summarize_connections", lambda: d.summarize_connections(run, results)),
                ("overnight_pnl", lambda: d.overnight_pnl(run)), ("check_risk_violations", lambda: d.check_risk_violations(run)),
                ("check_rebalance_need", lambda: d.check_rebalance_need(run)), ("start_session", lambda: d.start_session(run)),
                ("daily_checklist", lambda: d.run_daily_checklist(run))]
    if name == "end-of-day":
        return [("close_day_positions", lambda: [e.close_day_positions(run, a) for a in accounts]),
                ("calculate_daily_performance", lambda: e.calculate_daily_performance(run)),
                ("generate_daily_report", lambda: e.generate_daily_report(run)),
                ("backup_account_states", lambda: e.backup_account_states(run)),
                ("arm_overnight_monitoring", lambda: e.arm_overnight_monitoring(run))]
    if name == "rebalance":
        return [("compute_targets", lambda: rb.compute_targets(run)), ("plan_transfers", lambda: rb.plan_transfers(run)),
                ("execute_simulated_transfers", lambda: rb.execute_simulated_transfers(run)),
                ("live_transfers_pending_confirmation", lambda: {"pending": rb.live_transfer_ids(
                    rb.app_of(None), rb.run_of(run))})]
    if name == "backup":
        return [("create_backup", lambda: b.create_backup(run)), ("verify_backup", lambda: b.verify_backup(run)),
                ("apply_retention", lambda: b.apply_retention(run))]
    if name == "monthly-review":
        s: dict = {}
        return [("performance_review", lambda: s.setdefault("performance", m.performance_review(run))),
                ("cost_analysis", lambda: m.cost_analysis(run)),
                ("correlation_review", lambda: m.correlation_review(run)),
                ("limit_breaches", lambda: m.limit_breaches(run)),
                ("suggest_parameter_changes", lambda: m.suggest_parameter_changes(run, s["performance"])),
                ("disaster_recovery_test", lambda: s.setdefault("dr", m.disaster_recovery_test(run))),
                ("generate_monthly_report", lambda: m.generate_monthly_report(run, s["dr"])),
                ("monthly_checklist", lambda: m.run_monthly_checklist(run))]
    raise typer.BadParameter(f"unknown procedure {name!r}")


ZONES = {"daily-startup": STARTUP_AT[1], "end-of-day": END_OF_DAY_AT[1], "rebalance": STARTUP_AT[1],
         "backup": END_OF_DAY_AT[1], "monthly-review": MONTHLY_REVIEW_AT[1]}


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_procedure(
        procedure: str = typer.Argument(..., help="daily-startup | end-of-day | rebalance | backup | monthly-review"),
        trading_day: str = typer.Option("", help="YYYY-MM-DD; default: today in the procedure's time zone"),
        accounts: list[str] = typer.Option([], "--account", help="Limit to these accounts (repeatable)"),
        dry_run: bool = typer.Option(False, help="Compute and report, change nothing"),
        force_rebalance: bool = typer.Option(False, help="Rebalance even below the drift threshold"),
    ) -> None:
        """Run a procedure's steps in order, exactly as its Airflow DAG would."""
        from rich.console import Console
        from rich.table import Table

        from multiaccount.procedures.common import RunInfo

        if procedure not in ZONES:
            raise typer.BadParameter(f"unknown procedure {procedure!r}; one of {', '.join(ZONES)}")
        from multiaccount.domain import clock_from_env

        info = RunInfo.create(instant=clock_from_env().now(), timezone=ZONES[procedure], run_id=f"cli:{procedure}",
                              trading_day=trading_day or None, dry_run=dry_run, accounts=accounts,
                              force_rebalance=force_rebalance)
        run = info.to_dict()
        table = Table(title=f"{procedure} {info.trading_day}")
        table.add_column("step")
        table.add_column("result")
        failed = False
        for step, thunk in _steps(procedure, run):
            try:
                result = thunk()
                table.add_row(step, str(result)[:160])
            except Exception as exc:  # noqa: BLE001 - report every step, exit non-zero at the end
                failed = True
                table.add_row(step, f"[red]FAILED: {exc}[/red]")
                break
        Console().print(table)
        if failed:
            raise typer.Exit(1)
