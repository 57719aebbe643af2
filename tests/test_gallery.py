"""The image grid shows every image where it belongs, titled, with a true-length scale bar."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from medimg.gallery import image_grid


@pytest.fixture
def rows():
    rng = np.random.default_rng(1)
    return [[rng.random((8, 10)) for _ in range(3)], [rng.random((8, 10)) for _ in range(2)]]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_each_image_is_drawn_in_its_own_panel_in_order(rows):
    fig = image_grid(rows, ["real", "generated"])
    axes = np.array(fig.axes).reshape(2, 3)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            shown = axes[r, c].images
            assert len(shown) == 1
            np.testing.assert_array_equal(shown[0].get_array(), image)
            assert shown[0].origin == "lower"
    assert not axes[1, 2].images and not axes[1, 2].axison, "a short row leaves a blank panel"


def test_every_panel_has_a_title_and_rows_are_labelled(rows):
    titles = [["a", "b", "c"], ["d", "e"]]
    fig = image_grid(rows, ["real", "generated"], panel_titles=titles)
    axes = np.array(fig.axes).reshape(2, 3)
    assert [[axes[r, c].get_title() for c in range(len(t))] for r, t in enumerate(titles)] == titles
    assert [axes[r, 0].get_ylabel() for r in range(2)] == ["real", "generated"]
    default = image_grid(rows, ["real", "generated"])
    assert np.array(default.axes).reshape(2, 3)[1, 1].get_title() == "generated 2"


def test_grey_levels_share_one_display_range(rows):
    fig = image_grid(rows, ["real", "generated"], vmin=0.2, vmax=0.8)
    for ax in fig.axes:
        for image in ax.images:
            assert image.get_clim() == (0.2, 0.8)


def test_scale_bar_has_its_true_length_in_pixels(rows):
    fig = image_grid(rows, ["real", "generated"], pixel_mm=2.5, bar_mm=10)
    axes = np.array(fig.axes).reshape(2, 3)
    for r in range(2):
        bars = [line for line in axes[r, 0].lines if line.get_label() == "scale bar"]
        assert len(bars) == 1
        x = bars[0].get_xdata()
        assert x[1] - x[0] == pytest.approx(10 / 2.5)
        assert any(t.get_text() == "10 mm" for t in axes[r, 0].texts)
    assert not axes[0, 1].lines, "only the first panel of a row has a scale bar"


def test_orientation_letters_on_the_first_panel_of_each_row(rows):
    fig = image_grid(rows, ["real", "generated"], sides=("L", "R", "P", "A"))
    axes = np.array(fig.axes).reshape(2, 3)
    for r in range(2):
        assert sorted(t.get_text() for t in axes[r, 0].texts) == ["A", "L", "P", "R"]
    assert not axes[0, 1].texts


def test_a_4d_array_is_a_grid():
    stack = np.zeros((2, 4, 5, 6))
    fig = image_grid(stack, ["a", "b"])
    assert sum(len(ax.images) for ax in fig.axes) == 8


@pytest.mark.parametrize("bad, labels, match", [
    ([[np.zeros((4, 4, 3))]], ["x"], "2-D"),
    ([[]], ["x"], "empty"),
    ([], [], "no rows"),
    ([[np.zeros((4, 4))]], ["x", "y"], "one label per row"),
])
def test_bad_input_says_what_to_fix(bad, labels, match):
    with pytest.raises(ValueError, match=match):
        image_grid(bad, labels)


def test_bad_titles_sides_and_pixel_size_are_refused(rows):
    with pytest.raises(ValueError, match="one title per image"):
        image_grid(rows, ["a", "b"], panel_titles=[["x"], ["y"]])
    with pytest.raises(ValueError, match="four letters"):
        image_grid(rows, ["a", "b"], sides=("L", "R"))
    with pytest.raises(ValueError, match="positive"):
        image_grid(rows, ["a", "b"], pixel_mm=0)


def test_panels_keep_apart_inside_the_figure_with_room_for_titles():
    square = np.zeros((8, 8))                         # square images fill their panels
    rows = [[square] * 3, [square] * 2]
    fig = image_grid(rows, ["real", "generated"], panel_titles=[["a", "b", "c"], ["d", "e"]],
                     title="a figure title")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = np.array(fig.axes).reshape(2, 3)
    boxes = [[ax.get_window_extent(renderer) for ax in row] for row in axes]
    for r in range(2):
        for c in range(2):
            assert boxes[r][c].x1 < boxes[r][c + 1].x0, "panels in a row overlap"
    for c in range(3):
        title_box = axes[1, c].title.get_window_extent(renderer)
        assert title_box.y1 < boxes[0][c].y0, "a panel title runs into the row above"
    figure_box = fig.bbox
    suptitle_box = next(t for t in fig.texts if t.get_text() == "a figure title").get_window_extent(renderer)
    assert suptitle_box.y0 > axes[0, 0].title.get_window_extent(renderer).y1, "figure title hides panel titles"
    assert figure_box.x0 <= boxes[0][0].x0 and boxes[0][2].x1 <= figure_box.x1
    assert suptitle_box.y1 <= figure_box.y1 and figure_box.y0 <= boxes[1][0].y0
    label_box = axes[0, 0].yaxis.label.get_window_extent(renderer)
    assert label_box.x0 >= figure_box.x0, "row label cut off at the left edge"
