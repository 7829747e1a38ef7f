"""`multiaccount sim ...` and `multiaccount connections` through typer's runner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from multiaccount.brokers.simulated.scenarios import Scenario
from multiaccount.brokers.simulated.state import SCENARIO_FILE, sim_dir
from multiaccount.cli import app

SCENARIOS = Path(__file__).resolve().parents[2] / "config" / "scenarios"


def test_scenario_files_when_loaded_then_all_valid():
    files = sorted(SCENARIOS.glob("*.json"))
    assert len(files) >= 4
    kinds = {e.kind for f in files for e in Scenario.load(f).events}
    assert {"price_jump", "disconnect", "requote_storm", "latency"} <= kinds


def test_sim_scenario_when_activated_then_file_shared_and_clear_removes_it():
    runner = CliRunner()
    result = runner.invoke(app, ["sim", "scenario", str(SCENARIOS / "eurusd_5sigma.json")])
    assert result.exit_code == 0, result.output
    assert Scenario.load(sim_dir() / SCENARIO_FILE).name == "eurusd_5sigma"
    assert runner.invoke(app, ["sim", "scenario", "--clear"]).exit_code == 0
    assert not (sim_dir() / SCENARIO_FILE).exists()


def test_connections_when_simulated_then_ten_of_ten_and_reset_clears_accounts():
    runner = CliRunner()
    result = runner.invoke(app, ["connections"])
    assert result.exit_code == 0, result.output
    assert "Connections: 10/10 active" in result.output
    assert list(sim_dir().glob("account_*.jsonl"))
    assert runner.invoke(app, ["sim", "reset", "--yes"]).exit_code == 0
    assert not list(sim_dir().glob("account_*.jsonl"))
