"""The live registration plot collects values per level and redraws one figure."""

import numpy as np
import SimpleITK as sitk

from medimg.progress import MetricPlot


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


def test_updates_are_throttled_but_level_changes_and_the_end_are_shown():
    plot = MetricPlot(live=False, min_interval=3600)
    plot.start()
    plot._handle = handle = FakeHandle()
    plot.new_level()          # first level: nothing to show yet
    for v in range(50):
        plot.add(float(v))
    assert handle.updates == 0
    plot.new_level()
    assert handle.updates == 1
    plot.finish()
    assert handle.updates == 2
    assert plot.values == [float(v) for v in range(50)]


def test_start_resets_a_reused_plot():
    plot = MetricPlot(live=False)
    plot.start()
    plot.new_level()
    plot.add(1.0)
    plot.start()
    assert plot.values == [] and plot.level_starts == []
