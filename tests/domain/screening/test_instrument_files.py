"""Loading instrument files: malformed definitions fail naming the file and the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rtserver.domain.screening import DefinitionError, load_instrument, load_instruments
from rtserver.domain.screening.package_data import packaged

Edit = Callable[[dict[str, Any]], object]


def packaged_definition(instrument_id: str) -> dict[str, Any]:
    text = (packaged("instruments") / f"{instrument_id}.json").read_text(encoding="utf-8")
    definition: dict[str, Any] = json.loads(text)
    return definition


def write_edited(folder: Path, instrument_id: str, edit: Edit) -> Path:
    definition = packaged_definition(instrument_id)
    edit(definition)
    path = folder / f"{instrument_id}.json"
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    return path


def load_failure(folder: Path, instrument_id: str, edit: Edit) -> str:
    with pytest.raises(DefinitionError) as caught:
        load_instrument(write_edited(folder, instrument_id, edit))
    message = str(caught.value)
    assert message.startswith(f"{instrument_id}.json: ")
    return message


def phq9_bands(definition: dict[str, Any]) -> list[dict[str, Any]]:
    bands: list[dict[str, Any]] = definition["scales"][0]["bands"]
    return bands


def test_a_copy_of_a_packaged_file_loads(tmp_path: Path) -> None:
    write_edited(tmp_path, "phq9", lambda definition: None)
    (tmp_path / "README.txt").write_text("not an instrument", encoding="utf-8")
    assert list(load_instruments(tmp_path)) == ["phq9"]


def test_band_gap(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: phq9_bands(d)[1].update(min=6))
    assert "scales.total.bands: gap, no band covers 5..5" in message


def test_band_overlap(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: phq9_bands(d)[1].update(min=3))
    assert "scales.total.bands: band 'mild' overlaps the previous band on 3..4" in message


def test_bands_must_reach_the_highest_possible_score(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: phq9_bands(d)[-1].update(max=26))
    assert "gap, no band covers 27..27" in message


def test_bands_must_not_pass_the_highest_possible_score(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: phq9_bands(d)[-1].update(max=30))
    assert "above the highest possible score 27" in message


def test_gap_in_a_doubled_subscale_names_the_subscale(tmp_path: Path) -> None:
    def edit(definition: dict[str, Any]) -> None:
        definition["scales"][1]["bands"][4]["min"] = 21  # anxiety extremely severe from 20

    message = load_failure(tmp_path, "dass21", edit)
    assert "scales.anxiety.bands: gap, no band covers 20..20" in message


def test_missing_language(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "gad7", lambda d: d["items"][2]["text"].pop("en"))
    assert "items.2.text.en: Field required" in message


def test_empty_translation(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "gad7", lambda d: d["title"].update(id=""))
    assert "title.id:" in message


def test_item_in_no_subscale(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "dass21", lambda d: d["scales"][0]["items"].remove(3))
    assert "items [3] belong to no scale" in message


def test_subscale_naming_an_unknown_item(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "dass21", lambda d: d["scales"][2]["items"].append(22))
    assert "scales.stress.items: unknown items [22]" in message


def test_repeated_item_in_a_scale(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "gad7", lambda d: d["scales"][0]["items"].append(1))
    assert "repeat an item" in message


def test_option_scores_must_be_consecutive(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: d["options"][3].update(score=4))
    assert "options: scores [0, 1, 2, 4] must be consecutive and ascending" in message


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "k10", lambda d: d.update(cutoff=20))
    assert "cutoff: Extra inputs are not permitted" in message


def test_risk_rule_naming_an_unknown_band(tmp_path: Path) -> None:
    message = load_failure(
        tmp_path, "phq9", lambda d: d["risk_rules"][1].update(bands=["catastrophic"])
    )
    assert "risk_rules.1: scale 'total' has no bands ['catastrophic']" in message


def test_risk_rule_of_an_unknown_kind(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: d["risk_rules"][0].update(kind="vibes"))
    assert "risk_rules.0:" in message


def test_risk_rule_threshold_that_always_fires(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "phq9", lambda d: d["risk_rules"][0].update(threshold=0))
    assert "risk_rules.0: threshold 0 must be above 0" in message


def test_items_must_be_numbered_in_order(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "gad7", lambda d: d["items"][0].update(number=8))
    assert "items: numbers [8, 2, 3, 4, 5, 6, 7] must run 1..7 in order" in message


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    message = load_failure(tmp_path, "gad7", lambda d: d.update(id="gad8"))
    assert "id: 'gad8' does not match the file name" in message


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "phq9.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"^phq9\.json: invalid definition\n.*JSON"):
        load_instrument(path)
