"""The page in headless Chromium (Debian's package, driven by Playwright) against a real SQLite store."""

from __future__ import annotations

import re

import pytest

from multiaccount.config import load_firm
from multiaccount.config.scaffold import scaffold_firm
from multiaccount.dashboard import DashboardContext, InMemorySource, create_app
from multiaccount.dashboard.sample import fill_sample
from multiaccount.domain import Scope, TradingState
from tests.dashboard.conftest import TOKEN, expected_sign

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

GREEN, PINK = "rgb(144, 238, 144)", "rgb(255, 182, 193)"  # the seed's #90EE90 and #FFB6C1


def login(page, url):
    page.goto(url + "/")
    page.fill("#token", TOKEN)
    page.click("#login")
    page.wait_for_selector("#accounts-table td[data-dash-column=account_id]")


def table_rows(page) -> dict[str, dict[str, str]]:
    """Account id -> {status, background} as rendered, in table order."""
    return dict(page.eval_on_selector_all("#accounts-table tr", """rows => rows
        .map(r => [r.querySelector('td[data-dash-column=account_id]'), r.querySelector('td[data-dash-column=status]')])
        .filter(([id]) => id)
        .map(([id, st]) => [id.innerText.trim(), {status: st.innerText.trim(),
                                                  background: getComputedStyle(id).backgroundColor}])"""))


def test_page_when_loaded_with_seed_firm_then_all_accounts_with_seed_colours(page, serve_wsgi, store_context,
                                                                              seed_firm, artifacts_dir):
    url = serve_wsgi(create_app(store_context()).server)

    login(page, url)
    page.wait_for_selector("#firm-gauges .main-svg")
    page.wait_for_timeout(500)  # let plotly finish drawing before the screenshot
    rows = table_rows(page)
    page.screenshot(path=str(artifacts_dir / "dashboard_seed_firm.png"), full_page=True)

    assert list(rows) == list(seed_firm.accounts)
    for i, account_id in enumerate(seed_firm.accounts):
        assert rows[account_id]["background"] == (GREEN if expected_sign(i) > 0 else PINK), account_id
        assert rows[account_id]["status"] == "ACTIVE"
    assert page.inner_text("#connections-status") == "Connections 10/10"
    assert page.inner_text("#firm-state-badge") == "ACTIVE"
    for graph in ("portfolio-performance", "risk-distribution", "correlation-heatmap", "risk-exposure-chart"):
        assert page.locator(f"#{graph} .main-svg").count() >= 1, graph
    assert page.locator("#account-groups-grid .group-card").count() == len(seed_firm.groups)


def test_halt_when_confirmed_in_ui_then_store_and_page_show_halted(page, serve_wsgi, store_context, seeded_store,
                                                                     artifacts_dir):
    url = serve_wsgi(create_app(store_context()).server)
    login(page, url)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    page.click("#accounts-table td[data-dash-column=account_id] >> text=EU_HF_003")  # picks the scope
    page.wait_for_function("document.querySelector('#action-scope').innerText.includes('EU_HF_003')")
    page.fill("#action-actor", "Jane Risk")
    page.fill("#action-reason", "broker rejects every order")
    page.click("#action-submit")
    page.wait_for_selector("#action-message")

    assert dialogs and dialogs[0].startswith("HALT account:EU_HF_003?")
    assert "halted by Jane Risk" in page.inner_text("#action-message")
    record = seeded_store.trading_states.get(Scope.account("EU_HF_003"))
    assert (record.state, record.actor) == (TradingState.HALTED, "Jane Risk")
    assert [a.action for a in seeded_store.audit.list(actor="Jane Risk")] == ["dashboard.halt"]
    page.wait_for_function("""() => [...document.querySelectorAll('#accounts-table tr')].some(r =>
        r.innerText.includes('EU_HF_003') && r.innerText.includes('HALTED'))""")
    assert table_rows(page)["EU_HF_003"]["status"] == "HALTED"
    assert "account:EU_HF_003" in page.inner_text("#trading-states-table")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "dashboard_after_halt.png"), full_page=True)


def test_page_when_store_changes_then_live_update_without_reload(page, serve_wsgi, store_context, seeded_store):
    url = serve_wsgi(create_app(store_context()).server)
    login(page, url)

    seeded_store.trading_states.set(Scope.firm(), TradingState.HALTED, "EMERGENCY_STOP: test", "ops")

    page.wait_for_function("document.querySelector('#firm-state-badge').innerText === 'HALTED'")
    assert set(r["status"] for r in table_rows(page).values()) == {"HALTED"}


def test_page_when_read_only_then_no_action_controls(page, serve_wsgi, store_context):
    url = serve_wsgi(create_app(store_context(read_only=True)).server)
    login(page, url)
    assert page.locator("#action-submit").count() == 0
    assert page.inner_text("#read-only-badge") == "READ-ONLY"


def test_page_when_fifty_accounts_then_table_holds_all_and_filters_natively(page, serve_wsgi, tmp_path, clock):
    firm = load_firm(scaffold_firm(50, tmp_path / "firm50"))
    source = InMemorySource()
    fill_sample(source, firm, clock.now())
    url = serve_wsgi(create_app(DashboardContext(firm, source, clock=clock, token=TOKEN)).server)
    login(page, url)

    assert len(table_rows(page)) == 50
    first = next(iter(firm.accounts))
    page.fill("#accounts-table th[data-dash-column=account_id] input", first)
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelectorAll('#accounts-table td[data-dash-column=account_id]').length"
                           " < 50")
    assert all(re.search(first, k) for k in table_rows(page))
