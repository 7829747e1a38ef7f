"""Configuration: the seed loads, every class of bad input is rejected with file, field and value."""

from __future__ import annotations

import json
import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from multiaccount.cli import app
from multiaccount.config import ConfigError, load_firm, resolve_secret
from multiaccount.config.models import TimeWindow, parse_duration
from multiaccount.config.scaffold import scaffold_firm
from tests.conftest import SEED_CONFIG

SEED_ACCOUNTS = {"EU_HF_001", "EU_HF_002", "EU_HF_003", "EU_HF_004", "EU_HF_005",
                 "SW_001", "SW_002", "SW_003", "RD_001", "RD_002"}


@pytest.fixture
def cfg(tmp_path) -> Path:
    """A writable copy of the seed configuration."""
    dest = tmp_path / "config"
    shutil.copytree(SEED_CONFIG, dest)
    return dest


def edit(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def problems(root: Path) -> list:
    with pytest.raises(ConfigError) as exc:
        load_firm(root)
    return exc.value.problems


def test_load_when_seed_config_then_every_account_and_group_is_present(seed_firm):
    assert set(seed_firm.accounts) == SEED_ACCOUNTS
    assert {g: len(d.accounts) for g, d in seed_firm.groups.items()} == {
        "high_frequency": 5, "swing_trading": 3, "research": 2}
    m = seed_firm.master.master_account
    assert (m.max_total_risk, m.max_daily_loss, m.emergency_stop_threshold) == (0.15, 0.05, 0.20)
    assert seed_firm.master.risk_controls.max_drawdown_per_account == 0.10
    assert seed_firm.master.risk_controls.margin_call_threshold == 0.30
    assert seed_firm.master.terminal_pool.size == 10
    assert sum(g.allocation_percentage for g in seed_firm.master.account_groups.values()) == pytest.approx(1.0)


def test_specializations_when_seed_then_match_the_seed_roles(seed_firm):
    assert seed_firm.covers("EU_HF_001", "EURUSD") and not seed_firm.covers("EU_HF_001", "GBPUSD")
    assert seed_firm.covers("EU_HF_004", "EURGBP") and seed_firm.covers("EU_HF_004", "GBPJPY")
    assert not seed_firm.covers("EU_HF_004", "EURUSD")
    assert seed_firm.accounts["EU_HF_005"].account_info.standby
    assert seed_firm.backup_for("EU_HF_002") == "EU_HF_005"
    assert seed_firm.accounts["SW_002"].trading_config.max_holding == timedelta(days=7)
    assert seed_firm.accounts["SW_003"].trading_config.max_holding == timedelta(days=31)
    assert seed_firm.group_limits("swing_trading").max_holding == timedelta(days=7)
    assert not seed_firm.live_trading("RD_001") and not seed_firm.live_trading("RD_002")
    assert seed_firm.live_trading("EU_HF_001")


def test_load_when_allocations_do_not_sum_to_one_then_error_names_file_and_sum(cfg):
    edit(cfg / "accounts/master_account_config.json",
         lambda d: d["account_groups"]["research"].update(allocation_percentage=0.2))
    [p] = [p for p in problems(cfg) if "sum to 1.0" in p.message]
    assert p.file == "accounts/master_account_config.json"
    assert p.value == pytest.approx(1.1)


def test_load_when_account_in_no_group_then_error_names_account(cfg):
    edit(cfg / "accounts/account_groups/research_group.json", lambda d: d["group"]["accounts"].remove("RD_002"))
    ps = problems(cfg)
    assert any(p.value == "RD_002" and "in no group" in p.message and p.file.endswith("RD_002_config.json")
               for p in ps)


def test_load_when_account_in_two_groups_then_error_names_both_groups(cfg):
    edit(cfg / "accounts/account_groups/swing_trading_group.json", lambda d: d["group"]["accounts"].append("RD_001"))
    ps = problems(cfg)
    assert any(p.value == "RD_001" and "two groups" in p.message for p in ps)


def test_load_when_unknown_symbol_then_error_names_field_path_and_value(cfg):
    edit(cfg / "accounts/individual_accounts/EU_HF_001_config.json",
         lambda d: d["trading_config"].update(specialization=["EURUSD", "XAUEUR"]))
    [p] = [p for p in problems(cfg) if p.value == "XAUEUR"]
    assert p.file == "accounts/individual_accounts/EU_HF_001_config.json"
    assert p.path == "trading_config.specialization.1"
    assert "unknown symbol" in p.message


@pytest.mark.parametrize("hours, fragment", [
    (["08:00-11:00", "10:30-12:00"], "overlap"),
    (["8am-11am"], "HH:MM-HH:MM"),
    (["11:00-08:00"], "end must be after start"),
    (["25:00-26:00"], "HH:MM-HH:MM"),
])
def test_load_when_active_hours_bad_then_error_names_field(cfg, hours, fragment):
    edit(cfg / "accounts/master_account_config.json",
         lambda d: d["account_groups"]["high_frequency"].update(active_hours=hours))
    ps = problems(cfg)
    assert any(p.path == "account_groups.high_frequency.active_hours" and fragment in p.message for p in ps)


@pytest.mark.parametrize("field, value", [("max_total_risk", -0.1), ("max_daily_loss", 0), ("max_daily_loss", 1.5)])
def test_load_when_limit_negative_or_out_of_range_then_rejected(cfg, field, value):
    edit(cfg / "accounts/master_account_config.json", lambda d: d["master_account"].update({field: value}))
    ps = problems(cfg)
    assert any(p.path == f"master_account.{field}" and p.value == value for p in ps)


def test_load_when_several_files_bad_then_all_problems_reported_at_once(cfg):
    edit(cfg / "accounts/individual_accounts/SW_001_config.json",
         lambda d: d["trading_config"].update(risk_per_trade=-1))
    edit(cfg / "accounts/individual_accounts/RD_001_config.json",
         lambda d: d["trading_config"].update(trading_sessions=["moon_session"]))
    (cfg / "accounts/risk_matrix.json").write_text("{ not json")
    ps = problems(cfg)
    files = {p.file for p in ps}
    assert {"accounts/individual_accounts/SW_001_config.json", "accounts/individual_accounts/RD_001_config.json",
            "accounts/risk_matrix.json"} <= files


def test_load_when_password_is_literal_then_rejected_without_echoing_it(cfg):
    edit(cfg / "accounts/individual_accounts/EU_HF_003_config.json",
         lambda d: d["account_info"].update(mt5_password="hunter2secret"))
    ps = problems(cfg)
    [p] = [p for p in ps if p.path == "account_info.mt5_password"]
    assert "environment reference" in p.message
    assert "hunter2secret" not in p.message


def test_load_when_real_terminals_and_secret_unset_then_error_names_variable(cfg, monkeypatch):
    monkeypatch.setenv("MULTIACCOUNT_BROKER", "mt5")
    for acc in SEED_ACCOUNTS - {"SW_002"}:
        monkeypatch.setenv(f"MT5_PASSWORD_{acc}", "s3cret-value")
    monkeypatch.delenv("MT5_PASSWORD_SW_002", raising=False)
    ps = problems(cfg)
    assert [p.message for p in ps] == ["environment variable MT5_PASSWORD_SW_002 is not set"]
    assert all("s3cret-value" not in str(p) for p in ps)


def test_load_when_simulated_terminals_and_secret_unset_then_only_a_warning(cfg):
    firm = load_firm(cfg)
    assert any("MT5_PASSWORD_EU_HF_001" in w for w in firm.warnings)


def test_resolve_secret_when_set_then_value_hidden_in_repr(monkeypatch):
    monkeypatch.setenv("MT5_PASSWORD_EU_HF_001", "pa55word")
    secret = resolve_secret("${MT5_PASSWORD_EU_HF_001}")
    assert secret.get_secret_value() == "pa55word"
    assert "pa55word" not in repr(secret) and "pa55word" not in str(secret)


def test_load_when_file_name_and_account_id_differ_then_rejected(cfg):
    edit(cfg / "accounts/individual_accounts/SW_003_config.json",
         lambda d: d["account_info"].update(account_id="SW_009"))
    assert any(p.value == "SW_009" and "file name" in p.message for p in problems(cfg))


def test_load_when_strategy_weights_do_not_sum_to_one_then_rejected(cfg):
    edit(cfg / "accounts/individual_accounts/EU_HF_002_config.json",
         lambda d: d.update(strategy_allocation={"ict_patterns": 0.5}))
    assert any("strategy_allocation sums to 0.5000" in p.message for p in problems(cfg))


def test_time_window_when_midnight_end_then_contains_late_evening():
    w = TimeWindow.parse("20:00-00:00")
    assert w.contains(time(23, 59)) and not w.contains(time(19, 59))


@pytest.mark.parametrize("text, expected", [("7d", timedelta(days=7)), ("1-7 days", timedelta(days=7)),
                                            ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))])
def test_parse_duration_when_valid_then_timedelta(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("n", [4, 10, 37, 50])
def test_scaffold_when_n_accounts_then_valid_firm_with_n_accounts(tmp_path, n):
    firm = load_firm(scaffold_firm(n, tmp_path / "firm"))
    assert len(firm.accounts) == n
    capital = sum(a.account_info.initial_balance for a in firm.accounts.values())
    assert abs(capital - firm.master.master_account.total_capital) <= n  # whole-unit rounding per account
    hf = firm.groups["high_frequency"]
    assert hf.backup_account == hf.accounts[-1] and firm.accounts[hf.backup_account].account_info.standby


@pytest.mark.parametrize("n", [3, 51])
def test_scaffold_when_out_of_range_then_value_error(tmp_path, n):
    with pytest.raises(ValueError):
        scaffold_firm(n, tmp_path / "firm")


def test_cli_validate_when_bad_config_then_exit_1_and_table_names_problem(cfg):
    edit(cfg / "accounts/master_account_config.json", lambda d: d["master_account"].update(max_total_risk=-1))
    result = CliRunner().invoke(app, ["config", "validate", str(cfg)], terminal_width=200)
    assert result.exit_code == 1
    assert "max_total_risk" in result.output and "master_account_config.json" in result.output


def test_cli_validate_when_seed_then_exit_0():
    result = CliRunner().invoke(app, ["config", "validate", str(SEED_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "10 accounts in 3 groups" in result.output


def test_cli_scaffold_when_50_then_written_and_validates(tmp_path):
    dest = tmp_path / "fifty"
    result = CliRunner().invoke(app, ["config", "scaffold", "--accounts", "50", "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    assert len(load_firm(dest).accounts) == 50


def test_configuration_reference_when_models_change_then_docs_are_regenerated():
    from multiaccount.config.reference import render

    committed = (SEED_CONFIG.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(), "run: multiaccount config reference --write docs/configuration.md"
