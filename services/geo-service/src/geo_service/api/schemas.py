from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["NE-01"])]
Name = Annotated[str, Field(min_length=1, max_length=200, examples=["New England North"])]


class TerritoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "NE-01", "name": "Boston"}]})

    code: Code
    name: Name


class TerritoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Boston Metro"}]})

    code: Code | None = None
    name: Name | None = None


class TerritoryRead(BaseModel):
    id: str
    code: str
    name: str
    version: int


class TerritoryPage(BaseModel):
    items: list[TerritoryRead]
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")
