"""The instrument catalog: loading the packaged instrument files into validated definitions."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from rtserver.domain.screening.errors import DefinitionError
from rtserver.domain.screening.instrument import Instrument
from rtserver.domain.screening.package_data import packaged, parse_model


def load_instrument(file: Traversable | Path) -> Instrument:
    """Parse and validate one instrument file; its `id` must match the file name."""
    instrument = parse_model(Instrument, file)
    if instrument.id != file.name.removesuffix(".json"):
        raise DefinitionError(file.name, [f"id: '{instrument.id}' does not match the file name"])
    return instrument


def load_instruments(folder: Traversable | Path | None = None) -> dict[str, Instrument]:
    """Every `*.json` instrument in `folder` (default: the packaged ones), keyed by id.

    Reads the files on each call: load once at startup and hand the result to whoever scores.
    """
    folder = folder if folder is not None else packaged("instruments")
    instruments: dict[str, Instrument] = {}
    for file in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if file.name.endswith(".json"):
            instrument = load_instrument(file)
            instruments[instrument.id] = instrument
    return instruments
