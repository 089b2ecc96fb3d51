"""Inputs the assignment API refuses at its edge."""

from __future__ import annotations

import math

import pytest
from assignment_service.api.reps import RepUpsert
from pydantic import ValidationError


@pytest.mark.parametrize("value", [math.inf, math.nan])
def test_a_rep_capacity_must_be_a_finite_number_of_hours(value):
    assert RepUpsert.model_validate({"capacity_hours": 1600}).capacity_hours == 1600
    with pytest.raises(ValidationError):
        RepUpsert.model_validate({"capacity_hours": value})
