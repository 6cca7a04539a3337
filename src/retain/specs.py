"""Reading user-edited YAML into frozen pydantic ``*Spec`` models, with every problem named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from retain.errors import ConfigError

SpecT = TypeVar("SpecT", bound=BaseModel)


def load_yaml_spec(model: type[SpecT], path: str | Path, *, docs: str) -> SpecT:
    """Parse ``path`` into ``model``; a :class:`ConfigError` lists every invalid key (``docs`` is the fix)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="check the path, the encoding (UTF-8) and the YAML syntax"
                          ) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}", hint=f"see {docs}") from exc
