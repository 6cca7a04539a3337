"""JSON Schemas of the metric YAML files, committed so editors can check ``profitability.yaml`` and ``rfm.yaml``.

Regenerate with ``python -m retain.metrics.spec_schemas``; a test fails when a committed schema is out of date.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from retain.metrics.profitability import ProfitabilitySpec
from retain.metrics.rfm import RFMSpec

FOLDER = Path(__file__).parent / "schemas"
SPECS: dict[str, type[BaseModel]] = {"profitability": ProfitabilitySpec, "rfm": RFMSpec}


def json_schema(name: str) -> str:
    schema = SPECS[name].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def path(name: str) -> Path:
    return FOLDER / f"{name}.schema.json"


def write_schemas() -> list[Path]:
    written = []
    for name in SPECS:
        path(name).write_text(json_schema(name))
        written.append(path(name))
    return written


if __name__ == "__main__":
    for p in write_schemas():
        print(p)
