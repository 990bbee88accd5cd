"""Plots of league tables (matplotlib, imported only when a plot is drawn).

Figures are drawn on an Agg canvas directly, without ``pyplot``, so drawing a plot neither needs
a display nor changes the caller's matplotlib backend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

LABEL_WIDTH = 18
"""Characters per line of a tick label; longer agent names wrap (see :func:`wrap_label`)."""


def wrap_label(name: str, width: int = LABEL_WIDTH) -> str:
    """Break ``name`` into lines of at most ``width`` characters, after ``: _ / - .`` or a space.

    Agent names such as ``baseline:paa_negotiation_continuous`` have no spaces, so plain
    ``textwrap`` would cut them anywhere; this breaks after their separators and cuts a piece
    only when it alone is longer than ``width``. A space before a digit does not break, so
    ``(seat 0)`` stays on one line.
    """
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    pieces = [piece for piece in re.split(r"(?<=[:_/\-.])|(?<= )(?!\d)", name) if piece]
    lines = [""]
    for piece in pieces:
        while len(piece) > width:  # a piece longer than a line: cut it
            if lines[-1]:
                lines.append("")
            lines[-1], piece = piece[:width], piece[width:]
            lines.append("")
        if len(lines[-1]) + len(piece) > width and lines[-1]:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.rstrip() for line in lines if line.strip())


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
        names: the ``k`` agent names, in row/column order (long ones wrap, see
            :func:`wrap_label`).
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
    labels = [wrap_label(name) for name in names]
    # room for the tick labels: the longest line (about 0.075 in a character at this font size)
    # beside the rows and, rotated 45 degrees, below the columns
    label_room = 0.075 * max(
        (len(line) for label in labels for line in label.split("\n")), default=0
    )
    size = 1.6 + 0.9 * k
    figure = Figure(figsize=(size + 1.2 + label_room, size + 0.7 * label_room))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    masked = np.ma.masked_invalid(values)
    image = axes.imshow(masked, cmap="viridis")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(k), labels=labels, rotation=45, ha="right", rotation_mode="anchor")
    axes.set_yticks(range(k), labels=labels)
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
