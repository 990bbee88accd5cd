"""Plots of league tables (matplotlib, imported only when a plot is drawn).

Figures are drawn on an Agg canvas directly, without ``pyplot``, so drawing a plot neither needs
a display nor changes the caller's matplotlib backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def heatmap_png(
    table: np.ndarray,
    names: Sequence[str],
    path: str | Path,
    title: str = "",
    digits: int = 2,
) -> Path:
    """Save a ``(k, k)`` table as an annotated heatmap PNG (rows: agent, columns: opponent).

    Args:
        table: values, row agent against column agent; NaN cells are left blank.
        names: the ``k`` agent names, in row/column order.
        path: where to write the PNG.
        title: figure title.
        digits: decimals printed in each cell.

    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - matplotlib is in the agents extra
        from agents import EXTRA_HINT

        raise ImportError(f"heatmap_png needs matplotlib: {EXTRA_HINT}") from error
    values = np.asarray(table, dtype=np.float64)
    k = len(names)
    if values.shape != (k, k):
        raise ValueError(f"table must be ({k}, {k}) for {k} names, got {values.shape}")
    size = 1.6 + 0.9 * k
    figure = Figure(figsize=(size + 1.2, size))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    masked = np.ma.masked_invalid(values)
    image = axes.imshow(masked, cmap="viridis")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(k), labels=list(names), rotation=45, ha="right")
    axes.set_yticks(range(k), labels=list(names))
    axes.set_xlabel("opponent (column)")
    axes.set_ylabel("agent (row)")
    if title:
        axes.set_title(title, fontsize=9)
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for row in range(k):
        for col in range(k):
            value = values[row, col]
            if np.isfinite(value):
                axes.text(
                    col,
                    row,
                    f"{value:.{digits}f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if value > middle else "white",
                )
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, format="png", dpi=100)
    return path
