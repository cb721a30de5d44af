"""Crisis resources: Indonesia by default, local emergency advice elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtserver.domain.screening import (
    CrisisDirectory,
    DefinitionError,
    crisis_resources_for,
    load_crisis_directory,
)
from rtserver.domain.screening.package_data import packaged


@pytest.fixture(scope="module")
def directory() -> CrisisDirectory:
    return load_crisis_directory()


def test_indonesia_lists_the_known_numbers(directory: CrisisDirectory) -> None:
    resources = crisis_resources_for(directory, "ID")
    dial = {c.key: (c.numbers, c.extension) for c in resources.contacts}
    assert dial == {
        "emergency": (("112",), None),
        "mental_health": (("119",), "8"),
        "ambulance": (("118", "119"), None),
        "police": (("110",), None),
    }
    assert "112" in resources.advice.id
    assert "112" in resources.advice.en


def test_the_note_says_ops_must_verify(directory: CrisisDirectory) -> None:
    assert "re-verify" in directory.verified_note


@pytest.mark.parametrize("country", [None, "", "id", " ID "])
def test_unknown_or_indonesian_client_gets_indonesia(
    directory: CrisisDirectory, country: str | None
) -> None:
    assert crisis_resources_for(directory, country) == directory.countries["ID"]


@pytest.mark.parametrize("country", ["MY", "us", "XX"])
def test_other_countries_get_local_emergency_advice(
    directory: CrisisDirectory, country: str
) -> None:
    resources = crisis_resources_for(directory, country)
    assert resources.contacts == ()
    assert "local emergency services" in resources.advice.en
    assert "layanan darurat setempat" in resources.advice.id


def test_default_country_must_have_an_entry(tmp_path: Path) -> None:
    data = json.loads(packaged("crisis_resources.json").read_text(encoding="utf-8"))
    data["default_country"] = "MY"
    path = tmp_path / "crisis_resources.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    expected = r"(?s)^crisis_resources\.json: .*default_country: 'MY' is not in countries"
    with pytest.raises(DefinitionError, match=expected):
        load_crisis_directory(path)
