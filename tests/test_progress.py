"""The live registration plot collects values per level and redraws one figure."""

import time

import numpy as np
import SimpleITK as sitk

from medimg.progress import DRAW_SHARE, MetricPlot


class FakeHandle:
    def __init__(self):
        self.updates = 0

    def update(self, obj):
        self.updates += 1


def small_registration():
    fixed = sitk.GaussianSource(sitk.sitkFloat32, [32] * 3, [5.0] * 3, [16.0] * 3)
    moving = sitk.GaussianSource(sitk.sitkFloat32, [32] * 3, [5.0] * 3, [18.0, 15.0, 17.0])
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMeanSquares()
    reg.SetOptimizerAsRegularStepGradientDescent(1.0, 1e-3, 40)
    reg.SetShrinkFactorsPerLevel([2, 1])
    reg.SetSmoothingSigmasPerLevel([1, 0])
    reg.SetInitialTransform(sitk.TranslationTransform(3))
    return reg, fixed, moving


def test_collects_every_iteration_and_the_level_starts(capsys):
    reg, fixed, moving = small_registration()
    iterations = []
    reg.AddCommand(sitk.sitkIterationEvent, lambda: iterations.append(reg.GetMetricValue()))
    plot = MetricPlot(live=False).attach(reg)
    tx = reg.Execute(fixed, moving)
    np.testing.assert_allclose(tx.GetParameters(), (2.0, -1.0, 1.0), atol=0.05)
    assert plot.values == iterations
    assert plot.level_starts[0] == 0 and len(plot.level_starts) == 2
    assert 0 < plot.level_starts[1] < len(plot.values)
    assert capsys.readouterr().out == "", "the plot must never print"


def test_one_line_per_level_and_a_marker_per_level_change():
    plot = MetricPlot(live=False)
    plot.start()
    for level, values in enumerate(([3.0, 2.0, 1.5], [1.4, 1.2], [1.1, 1.0, 0.9, 0.8])):
        plot.new_level()
        for v in values:
            plot.add(v)
    plot.finish()
    fig = plot.draw()
    assert fig is plot.fig and len(fig.axes) == 1
    ax = plot.ax
    curves = [line for line in ax.lines if line.get_linestyle() == "-"]
    markers = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(markers) == 2
    assert len(curves) == 3
    np.testing.assert_array_equal(curves[1].get_xdata(), [3, 4])
    np.testing.assert_array_equal(curves[1].get_ydata(), [1.4, 1.2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["level 1", "level 2", "level 3"]
    plot.draw()
    assert len(ax.lines) == 5, "redrawing must not stack lines"
    assert ax.get_title() == "Registration metric"


def test_updates_are_throttled_but_the_end_is_always_shown():
    plot = MetricPlot(live=False, min_interval=3600)
    plot.start()
    plot._handle = handle = FakeHandle()
    plot.new_level()
    for v in range(50):
        plot.add(float(v))
    plot.new_level()          # a level change alone does not force a costly redraw
    plot.add(51.0)
    assert handle.updates == 0 and plot.redraws == 0
    plot.finish()
    assert handle.updates == 1
    assert plot.values == [float(v) for v in range(50)] + [51.0]
    assert len([line for line in plot.ax.lines if line.get_linestyle() == "-"]) == 2


def test_live_plot_is_displayed_once_then_updated(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, display_id=False: shown.append(obj) or FakeHandle())
    plot = MetricPlot(live=True, min_interval=0.0)
    plot.start()
    assert shown == [], "nothing is shown before there is something to draw"
    plot.new_level()
    for v in range(5):
        plot.add(float(v))
    plot.finish()
    assert shown == [plot.fig]
    assert plot._handle.updates >= 1


def test_start_resets_a_reused_plot():
    plot = MetricPlot(live=False)
    plot.start()
    plot.new_level()
    plot.add(1.0)
    plot.start()
    assert plot.values == [] and plot.level_starts == []


class SlowHandle(FakeHandle):
    """Rendering that takes 20 ms, as on a busy machine."""

    def update(self, obj):
        time.sleep(0.02)
        super().update(obj)


def test_a_slow_redraw_is_not_repeated_at_every_iteration():
    plot = MetricPlot(live=False, min_interval=0.0)
    plot.start()
    plot._handle = handle = SlowHandle()
    plot.new_level()
    start = time.perf_counter()
    for v in range(300):
        plot.add(float(v))
    elapsed = time.perf_counter() - start
    # Drawing may use about DRAW_SHARE of the time: at most one redraw per 20 ms / DRAW_SHARE.
    assert handle.updates <= 2 + elapsed * DRAW_SHARE / 0.02, (handle.updates, elapsed)
    assert len(plot.values) == 300


def test_tracked_values_get_their_own_panel_and_per_level_summaries():
    reg, fixed, moving = small_registration()
    positions = []

    def distance_to_truth(position):
        positions.append(tuple(position))
        return float(np.linalg.norm(np.subtract(position, (2.0, -1.0, 1.0))))

    plot = MetricPlot(live=False, track=distance_to_truth, track_label="error (mm)").attach(reg)
    reg.Execute(fixed, moving)
    assert len(plot.fig.axes) == 2 and plot.track_ax.get_ylabel() == "error (mm)"
    assert len(plot.tracked) == len(plot.values) == len(positions)
    assert sum(plot.iterations_per_level()) == len(plot.values)
    ends = plot.last_of_each_level()
    assert len(ends) == 2
    assert ends[1] == plot.tracked[-1] and ends[0] == plot.tracked[plot.level_starts[1] - 1]
    assert ends[-1] < 0.05 < plot.tracked[0], "the tracked error must fall during the run"
    plot.draw()
    curves = [line for line in plot.track_ax.lines if line.get_linestyle() == "-"]
    assert len(curves) == 2
    np.testing.assert_allclose(np.concatenate([c.get_ydata() for c in curves]), plot.tracked)


def test_stop_condition_of_every_level_is_kept():
    reg, fixed, moving = small_registration()
    plot = MetricPlot(live=False).attach(reg)
    reg.Execute(fixed, moving)
    assert len(plot.stop_conditions) == 2
    assert all("RegularStepGradientDescent" in s for s in plot.stop_conditions)
    assert plot.stop_conditions[-1] == reg.GetOptimizerStopConditionDescription()


def test_a_plot_that_is_not_shown_is_not_drawn():
    reg, fixed, moving = small_registration()
    plot = MetricPlot(live=False).attach(reg)
    reg.Execute(fixed, moving)
    assert plot.redraws == 0 and len(plot.values) > 0
    assert plot.ax.get_ylabel() == "metric value" and not plot.ax.lines
    plot.draw()                                  # on request it draws every level
    assert plot.redraws == 1 and len(plot.ax.lines) >= 2
