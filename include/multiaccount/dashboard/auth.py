"""Token login for the dashboard: `MULTIACCOUNT_DASHBOARD_TOKEN`, a login page, an HttpOnly cookie.

Why this shape: a risk desk needs something that works with a shared token today and no user
database. The cookie holds an HMAC of the token, never the token, is HttpOnly and SameSite=Strict
(so another site cannot post actions with it). `Authorization: Bearer <token>` also works, for
scripts. Every route but the login page needs it, including Dash's callback endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import os

from flask import Flask, Response, redirect, request

log = logging.getLogger(__name__)

TOKEN_ENV = "MULTIACCOUNT_DASHBOARD_TOKEN"
COOKIE = "multiaccount_dashboard"
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
OPEN_PATHS = (LOGIN_PATH, "/assets/dashboard.css")


def token_from_env() -> str | None:
    value = os.environ.get(TOKEN_ENV, "").strip()
    return value or None


def session_value(token: str) -> str:
    """What the cookie carries: a keyed digest, so reading the cookie does not reveal the token."""
    return hmac.new(token.encode(), b"multiaccount-dashboard-session", hashlib.sha256).hexdigest()


def is_authenticated(token: str, cookie: str | None, authorization: str | None) -> bool:
    if cookie and hmac.compare_digest(cookie, session_value(token)):
        return True
    if authorization and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization.removeprefix("Bearer ").strip().encode(), token.encode())
    return False


def install_token_auth(server: Flask, token: str) -> None:
    """Guard every route of the Flask server behind the token."""

    @server.before_request
    def _require_login():  # noqa: ANN202 - Flask hook
        if request.path in OPEN_PATHS or request.path == LOGOUT_PATH:
            return None
        if is_authenticated(token, request.cookies.get(COOKIE), request.headers.get("Authorization")):
            return None
        if request.path.startswith("/_dash") or request.method != "GET":
            return Response("login required", status=401)
        return redirect(LOGIN_PATH)

    @server.route(LOGIN_PATH, methods=["GET", "POST"])
    def _login():  # noqa: ANN202 - Flask view
        error = ""
        if request.method == "POST":
            given = request.form.get("token", "")
            if hmac.compare_digest(given.encode(), token.encode()):
                response = redirect("/")
                response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="Strict",
                                    secure=request.is_secure, max_age=12 * 3600)
                log.info("dashboard login", extra={"remote": request.remote_addr})
                return response
            log.warning("dashboard login failed", extra={"remote": request.remote_addr})
            error = "Wrong token."
        return Response(login_page(error), status=401 if error else 200, mimetype="text/html")

    @server.route(LOGOUT_PATH)
    def _logout():  # noqa: ANN202 - Flask view
        response = redirect(LOGIN_PATH)
        response.delete_cookie(COOKIE)
        return response


def login_page(error: str = "") -> str:
    message = f'<p class="login-error">{html.escape(error)}</p>' if error else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Multi-account risk desk - login</title>
<link rel="stylesheet" href="/assets/dashboard.css"></head>
<body class="login-body"><form method="post" action="{LOGIN_PATH}" class="login-card">
<h1>Multi-account risk desk</h1><p>Enter the dashboard token ({TOKEN_ENV}).</p>{message}
<input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
<button id="login" type="submit">Sign in</button></form></body></html>"""
