"""Headers on every response: nosniff on the API too, HSTS behind HTTPS, no server software version.

The `Server` header is written by the HTTP server, not by Flask, so it is read from real servers:
Werkzeug's development server in a thread and gunicorn in its own process.
"""
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from app.headers import HSTS

REPO = Path(__file__).resolve().parents[2]
VERSION = re.compile(r"\d+\.\d+|werkzeug|python", re.I)


def test_api_responses_are_nosniff_whatever_their_status(demo, as_user, client):
    admin = as_user("admin")
    responses = [admin.get("/api/v1/auth/me"), admin.get("/api/v1/instances/1"), admin.get("/api/v1/no-such"),
                 client.get("/api/v1/tasks"), client.get("/api/v1/openapi.json"),
                 client.post("/api/v1/auth/token", data="{", content_type="application/json")]
    assert [r.status_code for r in responses] == [200, 404, 404, 401, 200, 400]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.path


def test_no_hsts_while_the_session_cookie_may_travel_over_http(demo, client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    assert "Strict-Transport-Security" not in client.get("/api/v1/tasks").headers


def test_hsts_on_pages_and_api_when_the_session_cookie_is_https_only(demo, make_app):
    client = make_app(SESSION_COOKIE_SECURE=True).test_client()
    for url in ("/healthz", "/login", "/api/v1/tasks", "/api/v1/openapi.json", "/no-such-page"):
        assert client.get(url, base_url="https://localhost").headers["Strict-Transport-Security"] == HSTS, url


def test_our_responses_set_no_server_header(demo, client):
    for url in ("/healthz", "/login", "/api/v1/openapi.json"):
        assert "Server" not in client.get(url).headers


def _get(port: int, path: str = "/healthz") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_the_development_server_names_no_software_version(demo, app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = _get(server.server_port)
    finally:
        server.shutdown()
        thread.join(5)
    assert response.status == 200
    assert not VERSION.search(response.getheader("Server", "")), response.getheader("Server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(process: subprocess.Popen, port: int) -> http.client.HTTPResponse:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode(errors="replace")
        try:
            return _get(port)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 60 s")


def test_gunicorn_names_no_software_version(database_url):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "REDIS_URL": ""}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                                "app:create_app()"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        response = _wait_until_up(process, port)
    finally:
        process.terminate()
        process.communicate(timeout=10)  # reaps it and closes its stderr
    assert response.status == 200
    assert response.getheader("Server") == "gunicorn"
    assert response.getheader("X-Content-Type-Options") == "nosniff"

