from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest

from retain.demo import DemoSpec, generate


@pytest.fixture(scope="session")
def story():
    """A mid-size company (1,000 accounts, 3 years) as pandas frames, with its hidden truth."""
    from demo_checks import frames

    data = generate(DemoSpec(accounts=1000, seed=11))
    return data, frames(data)
