"""The slice viewer draws the right pixels, honours spacing and keeps one figure."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from medimg.viewers import SliceViewer


@pytest.fixture
def volume():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, 8, 10)).astype(np.float32)


def shown(viewer):
    return np.asarray(viewer.ax.images[0].get_array())


def test_initial_view_is_the_middle_slice(volume):
    v = SliceViewer(volume)
    assert v.index == 3
    np.testing.assert_array_equal(shown(v), volume[3])
    assert len(v.ax.images) == 1


def test_draw_shows_the_requested_slice_on_any_axis(volume):
    v = SliceViewer(volume, axis=2)
    np.testing.assert_array_equal(shown(v), volume[:, :, 5])
    fig = v.draw(7)
    assert fig is v.figure
    np.testing.assert_array_equal(shown(v), volume[:, :, 7])
    v.set_axis(1)
    np.testing.assert_array_equal(shown(v), volume[:, 4, :])
    assert len(v.ax.images) == 1, "changing axis must not stack images"


def test_aspect_follows_the_spacing_of_the_shown_axes(volume):
    v = SliceViewer(volume, axis=0, spacing=(3.0, 0.5, 1.0))
    assert v.aspect() == pytest.approx(0.5)
    v.set_axis(1)  # rows are axis 0 (3 mm), columns axis 2 (1 mm)
    assert v.aspect() == pytest.approx(3.0)
    assert v.ax.get_aspect() == pytest.approx(3.0)


def test_one_figure_per_viewer_however_often_it_redraws(volume):
    before = plt.get_fignums()
    v = SliceViewer(volume)
    for i in range(volume.shape[0]):
        v.draw(i)
    assert plt.get_fignums() == before, "viewer figures must not pile up in pyplot"
    assert len(v.figure.axes) == 2  # image and colour bar, nothing more


def test_cine_rgb_frames_and_timing():
    frames = np.zeros((4, 5, 6, 3), np.uint8)
    frames[2, ..., 0] = 255
    v = SliceViewer(frames, frame_time=40.0, title="cine")
    assert v.rgb and v.index == 0, "a cine starts at its first frame"
    v.draw(2)
    np.testing.assert_array_equal(shown(v), frames[2])
    assert v.ax.get_title() == "cine — frame 3/4, t = 0.080 s"


def test_2d_image_and_default_contrast():
    image = np.arange(100, dtype=float).reshape(10, 10)
    v = SliceViewer(image)
    np.testing.assert_array_equal(shown(v), image)
    assert v.n_slices == 1
    assert 0 < v.vmin < 1 and 98 < v.vmax < 99  # 0.5 / 99.5 percentiles


def test_widget_has_slider_and_axis_selector(volume):
    import ipywidgets as widgets

    v = SliceViewer(volume, axis_names=("z", "y", "x"))
    box = v.widget()
    controls = box.children[0].children
    slider, chooser = controls
    assert isinstance(slider, widgets.IntSlider) and slider.max == 5 and slider.value == 3
    slider.value = 1
    np.testing.assert_array_equal(shown(v), volume[1])
    chooser.value = 2
    assert slider.max == 9 and slider.value == 5
    np.testing.assert_array_equal(shown(v), volume[:, :, 5])
    assert v.widget() is box


@pytest.mark.parametrize("bad, kwargs, message", [
    (np.zeros(5), {}, "2-D image or a 3-D"),
    (np.zeros((2, 3, 4, 5, 6)), {}, "2-D image or a 3-D"),
    (np.zeros((3, 4, 5)), {"axis": 3}, "axis must be"),
    (np.zeros((3, 4, 5)), {"spacing": (1, 1)}, "spacing needs 3"),
    (np.zeros((3, 4, 5)), {"spacing": (1, 0, 1)}, "positive"),
])
def test_bad_input_is_explained(bad, kwargs, message):
    with pytest.raises(ValueError, match=message):
        SliceViewer(bad, **kwargs)


def test_out_of_range_index(volume):
    with pytest.raises(IndexError, match="outside 0..5"):
        SliceViewer(volume).draw(6)


def test_static_renderers_get_a_picture_of_the_first_view(volume):
    import base64

    bundle = SliceViewer(volume, title="vol")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle, "live widget for Jupyter"
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG"), "a picture for GitHub / nbviewer / exports"
    assert bundle["text/plain"].startswith("SliceViewer(shape=(6, 8, 10)")


def test_title_gives_the_slice_position_in_physical_units(volume):
    v = SliceViewer(volume, spacing=(2.5, 1, 1), axis_names=("z", "y", "x"), title="T1")
    assert v.ax.get_title() == "T1 — z = 3 (7.5 mm from first)"
    assert SliceViewer(volume).ax.get_title() == "axis 0 = 3", "no unit without spacing"


def test_cine_slider_counts_frames_like_the_title():
    """The slider and the title agree: slider value k shows "frame k/n" (k from 1)."""
    frames = np.arange(4 * 5 * 6, dtype=np.uint8).reshape(4, 5, 6)
    v = SliceViewer(frames, frame_time=40.0, title="cine")
    slider = v.widget().children[0].children[0]
    assert (slider.min, slider.max, slider.value) == (1, 4, 1)
    slider.value = 3
    np.testing.assert_array_equal(shown(v), frames[2])
    assert v.ax.get_title() == "cine — frame 3/4, t = 0.080 s"
    assert f"frame {slider.value}/" in v.ax.get_title()


def test_colour_bar_can_be_switched_off(volume):
    assert len(SliceViewer(volume, colorbar=False).figure.axes) == 1
    assert len(SliceViewer(volume).figure.axes) == 2


def test_png_is_rendered_once_per_view_and_follows_the_slider(volume):
    v = SliceViewer(volume)
    first = v.png()
    assert v.png() is first, "the same view is not rendered twice"
    v.draw(0)
    assert v.png() != first, "a new slice gives a new picture"
