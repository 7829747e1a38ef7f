from __future__ import annotations

from typer.testing import CliRunner

from multiaccount.cli import app


def test_run_end_of_day_when_invoked_from_cli_then_report_and_backup_in_store_and_exit_zero(monkeypatch):
    from multiaccount import paths
    from multiaccount.store import Store

    monkeypatch.setenv("MULTIACCOUNT_CLOCK_START", "2026-12-01T22:00:05Z")
    result = CliRunner().invoke(app, ["run", "end-of-day", "--trading-day", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert (paths.reports_dir() / "daily" / "2026-12-01" / "report.html").exists()
    store = Store.open()
    assert store.reports.get("daily", "2026-12-01", "html") is not None and store.backups.list()


def test_run_when_unknown_procedure_then_usage_error():
    assert CliRunner().invoke(app, ["run", "lunch"]).exit_code != 0
