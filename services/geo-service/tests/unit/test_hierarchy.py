"""The hierarchy rules and the territory CSV's reading, without a database."""

from __future__ import annotations

import pytest
from geo_service.domain.hierarchy import ancestors, in_cycle, parents_first, would_cycle
from geo_service.domain.territory import UNCHANGED, Territory
from geo_service.use_cases.territories_csv import check_hierarchy, read_rows, territories_csv
from territory_shared.api.problems import InvalidInput

TREE = {"R": None, "D": "R", "A": "D", "B": "D", "S": None}


def test_ancestors_go_up_to_the_top_and_stop_on_a_cycle():
    assert ancestors("A", TREE) == ["D", "R"]
    assert ancestors("R", TREE) == []
    assert ancestors("X", {"X": "Y", "Y": "X"}) == ["Y"]


def test_a_node_cannot_go_under_itself_or_a_descendant_but_anywhere_else():
    assert would_cycle("R", "R", TREE) and would_cycle("R", "A", TREE) and would_cycle("D", "B", TREE)
    assert not would_cycle("A", "S", TREE) and not would_cycle("D", None, TREE) and not would_cycle("A", "B", TREE)


def test_a_cycle_is_seen_from_its_members_only():
    parents = {"X": "Y", "Y": "Z", "Z": "Y", "T": None}
    assert in_cycle("Y", parents) and in_cycle("Z", parents)
    assert not in_cycle("X", parents) and not in_cycle("T", parents)
    assert in_cycle("S", {"S": "S"})


def test_parents_come_first_whatever_the_order_given():
    order = parents_first(["A", "B", "S", "D", "R"], TREE)
    assert order.index("R") < order.index("D") < order.index("A") and order.index("D") < order.index("B")


def test_the_export_reads_back_as_the_same_rows():
    t = [
        Territory("1", "t", "R", "Region", 1, "a", None, "#000000"),
        Territory("2", "t", "A", "Leaf, with a comma", 1, "a", "1"),
    ]
    text = territories_csv(t)
    assert text == 'code,name,parent_code,colour\nR,Region,,#000000\nA,"Leaf, with a comma",R,\n'
    assert [(r.row, r.code, r.name, r.parent_code, r.colour) for r in read_rows(text.encode())] == [
        (2, "R", "Region", None, "#000000"),
        (3, "A", "Leaf, with a comma", "R", None),
    ]


def test_missing_optional_columns_leave_parents_and_colours_unchanged():
    (row,) = read_rows(b"\xef\xbb\xbfcode,name\nA,a\n")
    assert row.parent_code is UNCHANGED and row.colour is UNCHANGED


def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(InvalidInput) as refused:
        read_rows(b"code,name\nA,\xff\n")
    assert refused.value.extensions["field"] == "body"


def test_the_hierarchy_check_names_the_rows_of_a_cycle_and_of_a_parent_with_units():
    rows = read_rows(b"code,name,parent_code\nD,d,A\nX,x,B\nN,n,\n")
    after, problems = check_hierarchy(rows, dict(TREE), owning_units={"B"})
    assert after["D"] == "A" and after["N"] is None
    assert [(p["row"], p["column"]) for p in problems] == [(2, "parent_code"), (3, "parent_code")]
    assert "cycle: D > A > D" in problems[0]["reason"] and "owns units" in problems[1]["reason"]
