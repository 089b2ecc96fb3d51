from __future__ import annotations

import pytest
from territory_shared.api.etags import etag_of, parse_if_match
from territory_shared.api.problems import BadRequest


def test_an_if_match_is_the_version_of_an_etag_this_api_returned():
    assert parse_if_match(etag_of(3)) == 3
    assert parse_if_match('W/"12"') == 12
    assert parse_if_match(None) is None
    assert parse_if_match("*") is None


@pytest.mark.parametrize("value", ['"²"', '"٣"', '"1e3"', '"-1"', '"' + "9" * 30 + '"', '""', "abc"])
def test_an_if_match_that_is_not_a_version_is_a_bad_request_not_a_crash(value):
    with pytest.raises(BadRequest) as refused:
        parse_if_match(value)
    assert refused.value.extensions["errors"][0]["field"] == "if-match"
