"""Grids of small images with a title on every panel, a scale bar and orientation letters.

Plumbing for episode 07, where rows of real and generated slices are compared side by
side; how the grid is laid out is not the lesson::

    fig = gallery.image_grid([train_slices, samples], ["training", "generated"],
                             panel_titles=[["z = 8 mm", ...], ["d = 0.05", ...]],
                             pixel_mm=3.0, sides=("L", "R", "P", "A"))
    plt.show()

Images are 2-D arrays already in display order: rows go *up* the screen
(``origin="lower"``), columns go to the right. The first panel of every row carries the
patient directions (left, right, bottom, top) and a scale bar, so each row reads on its
own when the figure is cropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _check_rows(rows) -> list[list[np.ndarray]]:
    if isinstance(rows, np.ndarray):
        if rows.ndim != 4:
            raise ValueError(f"an array of rows must be 4-D (row, image, y, x), got shape {rows.shape}")
        rows = list(rows)
    checked = []
    for r, row in enumerate(rows):
        images = [np.asarray(image) for image in row]
        if not images:
            raise ValueError(f"row {r} is empty: give at least one image per row")
        for c, image in enumerate(images):
            if image.ndim != 2:
                raise ValueError(f"image ({r}, {c}) must be 2-D (greyscale), got shape {image.shape}")
        checked.append(images)
    if not checked:
        raise ValueError("no rows to show: pass a list of rows, each a list of 2-D images")
    return checked


def image_grid(rows: Sequence[Sequence[np.ndarray]] | np.ndarray, row_labels: Sequence[str],
               panel_titles: Sequence[Sequence[str]] | None = None, pixel_mm: float | None = None,
               sides: Sequence[str] | None = None, vmin: float = 0.0, vmax: float = 1.0,
               cmap: str = "gray", bar_mm: float = 50.0, panel_inches: float = 1.45,
               title: str | None = None):
    """Draw ``rows`` of greyscale images as one grid and return the pyplot figure.

    Parameters
    ----------
    rows : list of lists of 2-D arrays (rows may differ in length), or a 4-D array
        ``(row, image, y, x)``. Arrays are shown with ``origin="lower"``.
    row_labels : one label per row, written at the left of the row.
    panel_titles : optional list of lists of str, one title per image; by default each
        panel is titled with its row label and its number.
    pixel_mm : pixel size in mm; when given, the first panel of each row gets a scale
        bar ``bar_mm`` long.
    sides : four letters (left, right, bottom, top) of the patient directions at the
        edges of each image, e.g. ``("L", "R", "P", "A")`` for a neurological axial view.
    vmin, vmax, cmap : display range and colour map (the same for every panel, so
        grey levels can be compared between panels).
    bar_mm : length of the scale bar in mm.
    panel_inches : width and height of each panel in inches (at the default 100 dpi,
        1.45 inches is 145 pixels); the figure grows with the number of rows and columns.
    title : optional figure title above the grid.
    """
    grid = _check_rows(rows)
    if len(row_labels) != len(grid):
        raise ValueError(f"{len(grid)} rows but {len(row_labels)} row labels: give one label per row")
    if panel_titles is not None:
        if len(panel_titles) != len(grid) or any(len(t) != len(r) for t, r in zip(panel_titles, grid)):
            raise ValueError("panel_titles must have the same shape as rows: one title per image")
    if sides is not None and len(sides) != 4:
        raise ValueError(f"sides needs four letters (left, right, bottom, top), got {sides!r}")
    if pixel_mm is not None and not pixel_mm > 0:
        raise ValueError(f"pixel_mm must be a positive size in mm, got {pixel_mm!r}")

    n_rows, n_cols = len(grid), max(len(r) for r in grid)
    # A fixed layout in inches: room for the row labels (left), the panel titles (between
    # rows) and the figure title (top). Much cheaper to draw than layout="constrained",
    # which measures every text of every panel at every draw.
    left, right, bottom, col_gap, row_gap = 0.3, 0.05, 0.05, 0.08, 0.3
    top = 0.55 if title else 0.25
    width = left + right + n_cols * panel_inches + (n_cols - 1) * col_gap
    height = top + bottom + n_rows * panel_inches + (n_rows - 1) * row_gap
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False, figsize=(width, height),
                             gridspec_kw=dict(left=left / width, right=1 - right / width,
                                              bottom=bottom / height, top=1 - top / height,
                                              wspace=col_gap / panel_inches, hspace=row_gap / panel_inches))
    for r, images in enumerate(grid):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(images):
                ax.set_axis_off()
                continue
            image = images[c]
            ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, origin="lower", interpolation="nearest")
            text = panel_titles[r][c] if panel_titles is not None else f"{row_labels[r]} {c + 1}"
            ax.set_title(text, fontsize=8, pad=2)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=9)
                if sides is not None:
                    _label_sides(ax, sides)
                if pixel_mm is not None:
                    _scale_bar(ax, image.shape, pixel_mm, bar_mm)
    if title:
        fig.suptitle(title, fontsize=11, y=1 - 0.08 / height, va="top")
    return fig


def _label_sides(ax, sides) -> None:
    style = dict(transform=ax.transAxes, color="#E69F00", fontsize=7, fontweight="bold",
                 ha="center", va="center",
                 bbox=dict(boxstyle="square,pad=0.1", facecolor="black", edgecolor="none", alpha=0.6))
    for text, x, y in zip(sides, (0.06, 0.94, 0.5, 0.5), (0.5, 0.5, 0.06, 0.94)):
        ax.text(x, y, text, **style)


def _scale_bar(ax, shape, pixel_mm: float, bar_mm: float) -> None:
    length = bar_mm / pixel_mm                      # in pixels
    x0, y0 = 0.05 * shape[1], 0.05 * shape[0]        # bottom-left corner, clear of the letters
    ax.plot([x0, x0 + length], [y0, y0], color="white", linewidth=2, solid_capstyle="butt",
            label="scale bar")
    ax.text(x0 + length / 2, y0 + 0.03 * shape[0], f"{bar_mm:g} mm", color="white",
            fontsize=6, ha="center", va="bottom")
