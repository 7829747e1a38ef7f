"""The report browser served through the plugin: lists, downloads, refuses paths outside the folder."""

from __future__ import annotations

from fastapi.testclient import TestClient

from multiaccount import paths
from multiaccount.airflow.report_browser import create_report_app


def test_report_app_when_report_exists_then_listed_and_downloadable_and_traversal_refused(tmp_path):
    folder = paths.reports_dir() / "daily" / "2026-12-01"
    folder.mkdir(parents=True)
    (folder / "daily_report.csv").write_text("account,pnl\nEU_HF_001,10\n")
    (tmp_path / "secret.txt").write_text("no")
    client = TestClient(create_report_app())

    assert [r["path"] for r in client.get("/api/reports").json()] == ["daily/2026-12-01/daily_report.csv"]
    got = client.get("/files/daily/2026-12-01/daily_report.csv")
    assert got.status_code == 200 and "EU_HF_001" in got.text
    assert "attachment" in got.headers["content-disposition"]
    assert client.get("/files/../../secret.txt").status_code == 404
    assert client.get("/files/%2e%2e/%2e%2e/secret.txt").status_code == 404
    assert "daily_report.csv" in client.get("/").text


def test_plugin_when_loaded_then_registers_app_nav_view_and_link():
    from airflow import plugins_manager

    assert "multiaccount" in [p.name for p in plugins_manager._get_plugins()[0]]
    assert plugins_manager.get_import_errors() == {}
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(a["url_prefix"] == "/multiaccount-reports" for a in apps)
    views, _ = plugins_manager._get_ui_plugins()
    assert any(v["name"] == "Reports" and v["destination"] == "nav" for v in views)
    assert any(link.name == "Download report" for link in plugins_manager.get_operator_extra_links())
