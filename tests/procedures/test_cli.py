from __future__ import annotations

from typer.testing import CliRunner

from multiaccount.cli import app


def test_run_end_of_day_when_invoked_from_cli_then_report_written_and_exit_zero():
    from multiaccount import paths

    result = CliRunner().invoke(app, ["run", "end-of-day", "--trading-day", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert (paths.reports_dir() / "daily" / "2026-12-01" / "daily_report.html").exists()


def test_run_when_unknown_procedure_then_usage_error():
    assert CliRunner().invoke(app, ["run", "lunch"]).exit_code != 0
