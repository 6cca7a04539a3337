"""Charts for CLV (PNG or SVG by file suffix): the distribution of per-account CLV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from retain.errors import RetainError


def plot_clv_distribution(values: pd.DataFrame, path: Path, title: str = "CLV distribution") -> Path:
    """Histogram of CLV (log-spaced bins) with the share of total value held by the top 20% of accounts."""
    if path.suffix.lower() not in {".png", ".svg"}:
        raise RetainError(f"cannot draw a chart to '{path}'", hint="use a .png or .svg file name")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clv = np.sort(values["clv"].to_numpy(float))[::-1]
    positive = clv[clv > 0]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if positive.size:
        bins = np.geomspace(max(positive.min(), 1e-2), positive.max() * 1.01, 40)
        ax.hist(positive, bins=bins, color="#3b7dd8")
        ax.set_xscale("log")
        top = positive[: max(1, int(np.ceil(0.2 * clv.size)))].sum() / positive.sum()
        ax.set_title(f"{title} ({clv.size:,} accounts; top 20% hold {top:.0%} of value)")
    else:
        ax.set_title(f"{title}: no positive values")
    ax.set_xlabel("CLV")
    ax.set_ylabel("accounts")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
