"""The `db` and `backup` commands through the real CLI app (typer's runner), exit codes included."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from multiaccount.cli import app
from multiaccount.store import Store, head_revision
from multiaccount.store.backup import list_backups, table_checksums

runner = CliRunner()


def test_db_current_when_not_migrated_then_exit_1_and_upgrade_fixes_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["db", "current", "--url", url]).exit_code == 1
    up = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert up.exit_code == 0 and head_revision() in up.output
    assert runner.invoke(app, ["db", "current", "--url", url]).exit_code == 0


def test_backup_create_list_verify_restore_when_archive_good_then_all_exit_0(tmp_path):
    store = Store.open()
    store.audit.record("alice", "resume", at=datetime(2026, 12, 1, tzinfo=UTC))
    states = tmp_path / "states.json"
    states.write_text(json.dumps({"EU_HF_001": {"equity": 1.5}}))

    created = runner.invoke(app, ["backup", "create", "--accounts-json", str(states)])
    assert created.exit_code == 0, created.output
    newest = list_backups()[0]
    name = newest.name
    listed = runner.invoke(app, ["backup", "list"])
    assert listed.exit_code == 0 and "backups (1)" in listed.output
    assert f"{newest.created_at:%H:%M:%S}" in listed.output
    assert runner.invoke(app, ["backup", "verify", name]).exit_code == 0
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = runner.invoke(app, ["backup", "restore", name, "--target", target])
    assert restored.exit_code == 0, restored.output
    assert table_checksums(target)["audit_log"] == table_checksums(store.url)["audit_log"]


def test_backup_verify_and_restore_when_archive_corrupt_or_target_full_then_distinct_exit_codes(tmp_path):
    store = Store.open()
    store.audit.record("alice", "resume")
    assert runner.invoke(app, ["backup", "create"]).exit_code == 0
    info = list_backups()[0]
    assert runner.invoke(app, ["backup", "restore", info.name, "--target", store.url]).exit_code == 3
    info.path.write_bytes(info.path.read_bytes()[:200])
    assert runner.invoke(app, ["backup", "verify", info.name]).exit_code == 2
    target = tmp_path / "never.db"
    assert runner.invoke(app, ["backup", "restore", info.name, "--target", f"sqlite:///{target}"]).exit_code == 2
    assert not target.exists()
