"""Charts of executed metric frames, written to PNG or SVG with matplotlib's Agg backend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from retain.errors import RetainError  # noqa: E402

FORMATS = {".png", ".svg"}


def _check(path: Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise RetainError(f"cannot plot to '{path}'", hint="use a .png or .svg file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def retention_plot(frame: pd.DataFrame, path: str | Path) -> Path:
    """Logo retention, GRR and NRR per period (one line per dimension value)."""
    path = _check(path)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    for value, group in frame.groupby("dimension_value", sort=True):
        for ax, column in zip(axes, ("logo_retention", "grr", "nrr"), strict=True):
            ax.plot(group["period"], group[column], marker="o", label=str(value))
    titles = ("Logo retention (retained / start)", "Gross revenue retention", "Net revenue retention")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title)
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.tick_params(axis="x", rotation=45)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if frame["dimension_value"].nunique() > 1:
        axes[-1].legend(fontsize="small", loc="best")
    return _save(fig, path)


def cohort_heatmap(frame: pd.DataFrame, path: str | Path, value: str = "logo_retention") -> Path:
    """Cohorts × months since start, coloured by ``value``."""
    path = _check(path)
    matrix = frame.pivot_table(index="cohort", columns="months_since_start", values=value, aggfunc="first")
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * matrix.shape[1] + 2), max(3, 0.3 * matrix.shape[0] + 1.5)))
    data = np.ma.masked_invalid(matrix.to_numpy(dtype=float))
    image = ax.imshow(data, aspect="auto", cmap="viridis", vmin=0, vmax=max(1.0, float(np.nanmax(matrix.to_numpy(
        dtype=float))) if matrix.size else 1.0))
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    ax.set_xlabel("months since start")
    ax.set_ylabel("signup cohort")
    ax.set_title(value.replace("_", " ").capitalize() + " by monthly cohort")
    fig.colorbar(image, ax=ax, format=matplotlib.ticker.PercentFormatter(1.0))
    return _save(fig, path)


def survival_plot(curve: pd.DataFrame, path: str | Path) -> Path:
    """Kaplan–Meier step curves with their confidence bands, one per dimension value."""
    path = _check(path)
    fig, ax = plt.subplots(figsize=(8, 5))
    for value, group in curve.groupby("dimension_value", sort=True):
        line = ax.step(group["time_months"], group["survival"], where="post", label=str(value))[0]
        ax.fill_between(group["time_months"], group["ci_lower"], group["ci_upper"], step="post",
                        alpha=0.2, color=line.get_color())
    ax.set_xlabel("months since first subscription")
    ax.set_ylabel("share still a customer")
    ax.set_ylim(0, 1.02)
    ax.set_title("Account survival (Kaplan–Meier, 95% band)")
    ax.legend(fontsize="small")
    return _save(fig, path)


def pareto_plot(curve: pd.DataFrame, path: str | Path) -> Path:
    """Cumulative share of revenue and profit against share of customers (best first)."""
    path = _check(path)
    fig, ax = plt.subplots(figsize=(7, 5))
    x = np.concatenate([[0.0], curve["customer_share"].to_numpy(float)])
    ax.plot(x, np.concatenate([[0.0], curve["revenue_share"].to_numpy(float)]), label="revenue")
    ax.plot(x, np.concatenate([[0.0], curve["profit_share"].to_numpy(float)]), label="profit")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="equal shares")
    ax.axvline(0.2, color="grey", lw=0.8, ls="--")
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of customers (largest first)")
    ax.set_ylabel("cumulative share")
    ax.set_title("Concentration (Pareto) curve")
    ax.legend()
    return _save(fig, path)
