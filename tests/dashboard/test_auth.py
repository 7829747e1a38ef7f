"""Token login in front of every route, including Dash's callback endpoint."""

from __future__ import annotations

from multiaccount.dashboard import create_app
from multiaccount.dashboard.auth import COOKIE, session_value
from tests.dashboard.conftest import TOKEN


def client(ctx):
    return create_app(ctx).server.test_client()


def test_page_when_not_logged_in_then_redirected_to_login(store_context):
    response = client(store_context()).get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_callback_endpoint_when_not_logged_in_then_401(store_context):
    response = client(store_context()).post("/_dash-update-component", json={})
    assert response.status_code == 401


def test_login_when_token_wrong_then_401_and_no_cookie(store_context):
    response = client(store_context()).post("/login", data={"token": "guess"})
    assert response.status_code == 401
    assert COOKIE not in response.headers.get("Set-Cookie", "")


def test_login_when_token_right_then_cookie_is_digest_and_page_served(store_context):
    c = client(store_context())

    response = c.post("/login", data={"token": TOKEN})

    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302
    assert TOKEN not in cookie and session_value(TOKEN) in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert c.get("/").status_code == 200


def test_page_when_bearer_token_sent_then_served(store_context):
    response = client(store_context()).get("/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


def test_layout_when_read_only_then_no_action_controls(store_context):
    c = client(store_context(read_only=True))
    layout = c.get("/_dash-layout", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert "action-submit" not in layout and "READ-ONLY" in layout


def test_layout_when_token_and_control_then_action_controls_present(store_context):
    c = client(store_context())
    layout = c.get("/_dash-layout", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    assert "action-submit" in layout and "confirm-action" in layout


def test_layout_when_no_token_then_open_but_read_only(store_context):
    c = client(store_context(token=None))
    assert c.get("/").status_code == 200
    assert "action-submit" not in c.get("/_dash-layout").get_data(as_text=True)
