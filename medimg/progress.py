"""A live plot of a SimpleITK registration's metric, redrawn in ONE figure.

Plumbing for episode 03: the notebook shows *what* the metric does while the optimiser
runs; how the plot is refreshed is not the lesson.

    plot = progress.MetricPlot(title="Mattes MI, 2 mm grid")
    plot.attach(registration)        # before registration.Execute(...)
    final = registration.Execute(fixed, moving)

``attach`` registers SimpleITK commands (``AddCommand``) for the start, each iteration,
each new pyramid level and the end. Values are kept in ``plot.values``; the iteration
at which each level starts is kept in ``plot.level_starts``. The figure is shown once
(``IPython.display`` with a display id) and updated in place at most every
``min_interval`` seconds, at every level change and at the end, so the notebook ends up
with a single figure whatever the speed of the machine. Nothing is printed.
"""

from __future__ import annotations

import time

import SimpleITK as sitk
from matplotlib.figure import Figure

LEVEL_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")  # Okabe-Ito


class MetricPlot:
    """Collect metric values from a registration and redraw one figure while it runs."""

    def __init__(self, title: str = "Registration metric", live: bool = True,
                 min_interval: float = 0.5, figsize=(6.4, 3.0)):
        self.title = title
        self.live = live
        self.min_interval = float(min_interval)
        self.values: list[float] = []
        self.level_starts: list[int] = []
        # A Figure that pyplot does not manage: the inline backend will not show it a
        # second time at the end of the cell; we display and update it ourselves.
        self.fig = Figure(figsize=figsize, layout="constrained")
        self.ax = self.fig.subplots()
        self._handle = None
        self._last_draw = 0.0
        self.redraws = 0

    # -- connecting to a registration ---------------------------------------------------
    def attach(self, registration: sitk.ImageRegistrationMethod) -> "MetricPlot":
        """Register the callbacks on ``registration``; returns self."""
        registration.AddCommand(sitk.sitkStartEvent, self.start)
        registration.AddCommand(sitk.sitkMultiResolutionIterationEvent, self.new_level)
        registration.AddCommand(sitk.sitkIterationEvent,
                                lambda: self.add(registration.GetMetricValue()))
        registration.AddCommand(sitk.sitkEndEvent, self.finish)
        return self

    # -- callbacks (also usable by hand) --------------------------------------------------
    def start(self) -> None:
        self.values.clear()
        self.level_starts.clear()
        self.redraws = 0
        self.draw()
        if self.live:
            from IPython.display import display

            self._handle = display(self.fig, display_id=True)
        self._last_draw = time.perf_counter()

    def new_level(self) -> None:
        """A new pyramid level starts at the next iteration."""
        self.level_starts.append(len(self.values))
        self._refresh(force=len(self.level_starts) > 1)

    def add(self, value: float) -> None:
        self.values.append(float(value))
        self._refresh(force=False)

    def finish(self) -> None:
        self._refresh(force=True)

    # -- drawing ------------------------------------------------------------------------
    def draw(self) -> Figure:
        """Draw the current values (levels in different colours) and return the figure."""
        ax = self.ax
        ax.clear()
        starts = self.level_starts or [0]
        bounds = list(starts) + [len(self.values)]
        for level, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            colour = LEVEL_COLOURS[level % len(LEVEL_COLOURS)]
            if hi > lo:
                ax.plot(range(lo, hi), self.values[lo:hi], color=colour,
                        label=f"level {level + 1}")
            if level > 0:
                ax.axvline(lo - 0.5, color=colour, linestyle="--", linewidth=1)
        ax.set_xlabel("iteration (all levels)")
        ax.set_ylabel("metric value")
        ax.set_title(self.title)
        if self.values:
            ax.legend(loc="upper right", fontsize="small")
        self.redraws += 1
        return self.fig

    def _refresh(self, force: bool) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < self.min_interval:
            return
        self.draw()
        if self._handle is not None:
            self._handle.update(self.fig)
        self._last_draw = now
