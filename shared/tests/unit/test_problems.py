from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from territory_shared.api.problems import BadRequest, InvalidInput, MalformedRequest, install_problem_handlers


class Thing(BaseModel):
    name: str


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def things(thing: Thing, refuse: str = "") -> dict[str, str]:
        if refuse == "invalid":
            raise InvalidInput("name is taken", field="name")
        if refuse == "bad-request":
            raise BadRequest("name is taken", field="name")
        if refuse == "malformed":
            raise MalformedRequest("the body is not valid JSON", field="body")
        return {"name": thing.name}

    return TestClient(app)


def test_a_wrong_value_is_a_422_naming_the_field_whether_pydantic_or_a_use_case_finds_it():
    client = _client()
    by_pydantic = client.post("/things", json={"name": 3})
    for refuse in ("invalid", "bad-request"):
        by_use_case = client.post(f"/things?refuse={refuse}", json={"name": "a"})
        assert by_use_case.status_code == by_pydantic.status_code == 422
        assert by_use_case.headers["content-type"] == "application/problem+json"
        assert by_use_case.json()["errors"] == [{"field": "name", "reason": "name is taken"}]
    assert by_pydantic.json()["errors"][0]["field"] == "name"


def test_a_body_that_cannot_be_read_stays_a_400():
    client = _client()
    assert client.post("/things?refuse=malformed", json={"name": "a"}).status_code == 400
    assert client.post("/things", content=b'{"name": ', headers={"content-type": "application/json"}).status_code == 400
