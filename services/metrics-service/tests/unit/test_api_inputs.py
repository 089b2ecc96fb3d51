"""Inputs the metrics API refuses before any arithmetic: a target must be a finite number."""

from __future__ import annotations

import math

import pytest
from metrics_service.api.metrics import _target
from metrics_service.api.schemas import WhatIf
from pydantic import ValidationError
from territory_shared.api.problems import BadRequest


def test_a_target_is_the_mean_or_a_finite_number():
    assert _target("mean") is None
    assert _target(" Mean ") is None
    assert _target("1250000") == 1_250_000.0


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", "1e999", "lots"])
def test_a_target_that_is_not_a_finite_number_is_a_bad_request(value):
    with pytest.raises(BadRequest) as refused:
        _target(value)
    assert refused.value.extensions["errors"] == [{"field": "target", "reason": "not a finite number"}]


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_what_if_target_must_be_finite(value):
    moves = [{"unit_ids": ["u1"], "territory_id": "t1"}]
    assert WhatIf.model_validate({"moves": moves, "target": 10.0}).target == 10.0
    with pytest.raises(ValidationError):
        WhatIf.model_validate({"moves": moves, "target": value})
