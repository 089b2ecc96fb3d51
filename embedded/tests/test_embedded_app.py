"""The embedded mode: three services in one app, SQLite files and the in-process bus under one data folder."""

from __future__ import annotations

import logging
import sqlite3
import time
from contextlib import closing

from fastapi.testclient import TestClient
from territory_embedded.app import create_embedded_app

from tests.support.auth import auth_headers


def test_health_lists_three_healthy_services_and_each_api_has_its_prefix(tmp_path):
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert set(health.json()["services"]) == {"geo-service", "assignment-service", "metrics-service"}
        for prefix in ("geo", "assignment", "metrics"):
            assert client.get(f"/{prefix}/healthz").status_code == 200
            assert client.get(f"/{prefix}/openapi.json").status_code == 200
    assert {p.name for p in (tmp_path / "data").iterdir()} >= {
        "geo.sqlite",
        "assignment.sqlite",
        "metrics.sqlite",
        "bus.sqlite",
    }


def test_a_territory_created_in_geo_is_counted_by_metrics_and_survives_a_restart(tmp_path):
    tenant = auth_headers("acme")
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        created = client.post("/geo/v1/territories", json={"code": "NE", "name": "North East"}, headers=tenant)
        assert created.status_code == 201
        assert created.headers["location"].endswith(f"/geo/v1/territories/{created.json()['id']}")
        deadline = time.monotonic() + 5
        while client.get("/metrics/v1/territory-count", headers=tenant).json()["territories"] != 1:
            assert time.monotonic() < deadline, "metrics never counted the territory"
            time.sleep(0.02)
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        assert client.get("/metrics/v1/territory-count", headers=tenant).json()["territories"] == 1
        assert len(client.get("/geo/v1/territories", headers=tenant).json()["items"]) == 1


def test_without_a_configured_secret_the_first_start_makes_one_and_a_working_admin_token(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTH_JWT_SECRET")
    data = tmp_path / "data"
    with TestClient(create_embedded_app(data)) as client:
        token = (data / "admin-token.txt").read_text().strip()
        assert token == client.app.state.admin_token
        admin = {"Authorization": f"Bearer {token}"}
        assert client.post("/geo/v1/territories", json={"code": "A", "name": "a"}, headers=admin).status_code == 201
        assert client.get("/geo/v1/territories").status_code == 401
        assert client.get("/v1/demo").status_code == 401
        assert client.get("/v1/demo", headers=admin).json() == {"status": "not requested"}
        # The tests' secret is not this platform's: a token signed with it is refused.
        assert client.get("/geo/v1/territories", headers=auth_headers("demo")).status_code == 401
    secret = data / "auth-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    kept = secret.read_text()
    with TestClient(create_embedded_app(data)) as client:
        # The secret survives a restart, so yesterday's token still works and sees the same data.
        listed = client.get("/geo/v1/territories", headers=admin).json()["items"]
        assert [t["code"] for t in listed] == ["A"]
    assert secret.read_text() == kept


def test_the_cli_prints_the_admin_token_and_a_web_map_link(tmp_path, monkeypatch, capsys):
    from territory_embedded import cli

    monkeypatch.delenv("AUTH_JWT_SECRET")
    monkeypatch.setattr(cli, "serve_api", lambda app, host, port: None)
    cli.main(["--data-dir", str(tmp_path / "data"), "--no-demo", "--port", "8123"])
    token = (tmp_path / "data" / "admin-token.txt").read_text().strip()
    assert f"http://127.0.0.1:8123/#token={token}" in capsys.readouterr().out


def test_a_path_no_service_matches_is_a_problem_not_plain_json(tmp_path):
    # A newline in a path segment: the service mounts' patterns do not match it, so the outer app answers.
    with TestClient(create_embedded_app(tmp_path / "data")) as client:
        response = client.get("/geo/v1/layers/a%0Ab/units")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_the_same_app_stopped_and_started_again_relays_every_event_once_without_errors(tmp_path, caplog):
    # A test client (or schemathesis) may stop an app's lifespan and start it again: the bus must work again.
    caplog.set_level(logging.WARNING)
    tenant = auth_headers("acme")
    app = create_embedded_app(tmp_path / "data")
    for run, code in enumerate(("NE", "SW"), start=1):
        with TestClient(app) as client:
            created = client.post("/geo/v1/territories", json={"code": code, "name": code}, headers=tenant)
            assert created.status_code == 201
            deadline = time.monotonic() + 10
            while client.get("/metrics/v1/territory-count", headers=tenant).json()["territories"] != run:
                assert time.monotonic() < deadline, f"metrics never counted the territory of run {run}"
                time.sleep(0.02)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    with closing(sqlite3.connect(tmp_path / "data" / "geo.sqlite")) as geo:
        assert geo.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0] == 0
        sent = dict(geo.execute("SELECT topic, count(*) FROM outbox GROUP BY topic").fetchall())
    with closing(sqlite3.connect(tmp_path / "data" / "bus.sqlite")) as bus:
        marks = ",".join("?" for _ in sent)
        query = f"SELECT topic, count(*) FROM messages WHERE topic IN ({marks}) GROUP BY topic"  # noqa: S608
        assert dict(bus.execute(query, list(sent)).fetchall()) == sent, "each of geo's events is on the bus once"
