from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["NE-01"])]
Name = Annotated[str, Field(min_length=1, max_length=200, examples=["New England North"])]


Colour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", examples=["#1f77b4"])]


class TerritoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "NE-01", "name": "Boston"}]})

    code: Code
    name: Name
    alignment_id: str | None = Field(default=None, description="The draft alignment whose hierarchy it joins")
    parent_id: str | None = Field(default=None, description="Its parent territory (region, district...)")
    colour: Colour | None = None


class TerritoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Boston Metro"}]})

    code: Code | None = None
    name: Name | None = None
    colour: Colour | None = None
    parent_id: str | None = Field(
        default=None,
        description="Move it under this territory of the same draft alignment; null: the top level; omit to keep",
    )


class TerritoryRead(BaseModel):
    id: str
    code: str
    name: str
    version: int
    alignment_id: str | None = None
    parent_id: str | None = None
    colour: str | None = None


class TerritoryPage(BaseModel):
    items: list[TerritoryRead]
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")
