"""A live plot of a SimpleITK registration's metric, redrawn in ONE figure.

Plumbing for episode 03: the notebook shows *what* the metric does while the optimiser
runs; how the plot is refreshed is not the lesson.

    plot = progress.MetricPlot(title="Mattes MI, 2 mm grid")
    plot.attach(registration)        # before registration.Execute(...)
    final = registration.Execute(fixed, moving)

``attach`` registers SimpleITK commands (``AddCommand``) for the start, each iteration,
each new pyramid level and the end. Values are kept in ``plot.values``; the iteration
at which each level starts is kept in ``plot.level_starts``; the optimiser's stop
condition of each finished level in ``plot.stop_conditions``.

``track=f`` adds a second panel: ``f(position)`` is called with the optimiser's
parameters at every iteration (for example to compute a registration error in mm when
the true transform is known); its values are kept in ``plot.tracked``.

The figure is shown once (``IPython.display`` with a display id, at the first redraw)
and updated in place, at most every ``min_interval`` seconds and never more often than
drawing costs allow (drawing takes at most about a tenth of the time, also on a slow or
busy machine), and at the end, so the notebook ends up with a single figure. A short
registration is drawn once, when it ends. Nothing is printed. With ``live=False`` the
values are only collected (no drawing at all until you call ``draw()``), unless a display
handle has been set.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import SimpleITK as sitk
from matplotlib.figure import Figure

LEVEL_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")  # Okabe-Ito
DRAW_SHARE = 0.1  # redraw only when drawing took at most this share of the elapsed time


class MetricPlot:
    """Collect metric values from a registration and redraw one figure while it runs."""

    def __init__(self, title: str = "Registration metric", live: bool = True,
                 min_interval: float = 1.0, figsize=None,
                 track: Callable[[Sequence[float]], float] | None = None,
                 track_label: str = "tracked value"):
        self.title = title
        self.live = live
        self.min_interval = float(min_interval)
        self.track = track
        self.track_label = track_label
        self.values: list[float] = []
        self.tracked: list[float] = []
        self.level_starts: list[int] = []
        self.stop_conditions: list[str] = []
        if figsize is None:
            figsize = (9.0, 3.0) if track is not None else (6.4, 3.0)
        # A Figure that pyplot does not manage: the inline backend will not show it a
        # second time at the end of the cell; we display and update it ourselves.
        self.fig = Figure(figsize=figsize, dpi=100, layout="constrained")
        axes = self.fig.subplots(1, 2 if track is not None else 1, squeeze=False)[0]
        self.ax = axes[0]
        self.track_ax = axes[1] if track is not None else None
        self._draw_series(self.ax, [], "metric value", self.title)     # labelled, empty axes
        if self.track_ax is not None:
            self._draw_series(self.track_ax, [], track_label, track_label)
        self._handle = None
        self._registration = None
        self._last_draw = 0.0
        self._draw_seconds = 0.0
        self.redraws = 0

    # -- connecting to a registration ---------------------------------------------------
    def attach(self, registration: sitk.ImageRegistrationMethod) -> "MetricPlot":
        """Register the callbacks on ``registration``; returns self."""
        self._registration = registration
        registration.AddCommand(sitk.sitkStartEvent, self.start)
        registration.AddCommand(sitk.sitkMultiResolutionIterationEvent, self._level_event)
        registration.AddCommand(sitk.sitkIterationEvent, self._iteration_event)
        registration.AddCommand(sitk.sitkEndEvent, self._end_event)
        return self

    def _iteration_event(self) -> None:
        reg = self._registration
        tracked = None
        if self.track is not None:
            tracked = self.track(reg.GetOptimizerPosition())
        self.add(reg.GetMetricValue(), tracked)

    def _level_event(self) -> None:
        if self.level_starts:      # the level that just ended
            self.stop_conditions.append(self._registration.GetOptimizerStopConditionDescription())
        self.new_level()

    def _end_event(self) -> None:
        self.stop_conditions.append(self._registration.GetOptimizerStopConditionDescription())
        self.finish()

    # -- callbacks (also usable by hand) --------------------------------------------------
    def start(self) -> None:
        self.values.clear()
        self.tracked.clear()
        self.level_starts.clear()
        self.stop_conditions.clear()
        self.redraws = 0
        self._handle = None
        self._draw_seconds = 0.0
        self._last_draw = time.perf_counter()

    def new_level(self) -> None:
        """A new pyramid level starts at the next iteration."""
        self.level_starts.append(len(self.values))
        self._refresh(force=False)

    def add(self, value: float, tracked: float | None = None) -> None:
        self.values.append(float(value))
        if tracked is not None:
            self.tracked.append(float(tracked))
        self._refresh(force=False)

    def finish(self) -> None:
        self._refresh(force=True)

    # -- results ------------------------------------------------------------------------
    def iterations_per_level(self) -> list[int]:
        bounds = list(self.level_starts or [0]) + [len(self.values)]
        return [hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])]

    def last_of_each_level(self, series: Sequence[float] | None = None) -> list[float]:
        """The last value of ``series`` (default: the tracked values) in each level."""
        series = self.tracked if series is None else series
        bounds = list(self.level_starts or [0]) + [len(series)]
        return [float(series[hi - 1]) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]

    # -- drawing ------------------------------------------------------------------------
    def _draw_series(self, ax, series, ylabel: str, title: str) -> None:
        ax.clear()
        starts = self.level_starts or [0]
        bounds = list(starts) + [len(series)]
        for level, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            colour = LEVEL_COLOURS[level % len(LEVEL_COLOURS)]
            hi = min(hi, len(series))
            if hi > lo:
                ax.plot(range(lo, hi), series[lo:hi], color=colour, label=f"level {level + 1}")
            if level > 0:
                ax.axvline(lo - 0.5, color=colour, linestyle="--", linewidth=1)
        ax.set_xlabel("iteration (all levels)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if series:
            ax.legend(loc="upper right", fontsize="small")

    def draw(self) -> Figure:
        """Draw the current values (levels in different colours) and return the figure."""
        self._draw_series(self.ax, self.values, "metric value", self.title)
        if self.track_ax is not None:
            self._draw_series(self.track_ax, self.tracked, self.track_label, self.track_label)
        self.redraws += 1
        return self.fig

    def _refresh(self, force: bool) -> None:
        if not self.live and self._handle is None:
            return                 # nothing is shown: draw only when asked (``draw()``)
        now = time.perf_counter()
        wait = max(self.min_interval, self._draw_seconds / DRAW_SHARE)
        if not force and now - self._last_draw < wait:
            return
        self.draw()
        if self._handle is not None:
            self._handle.update(self.fig)
        elif self.live:
            from IPython.display import display

            self._handle = display(self.fig, display_id=True)
        done = time.perf_counter()
        # Measured after drawing: on a busy machine a slow redraw must not be followed
        # at once by another one (that would redraw at every iteration).
        self._draw_seconds = done - now
        self._last_draw = done
