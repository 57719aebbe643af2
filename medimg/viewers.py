"""An ipywidgets slice / frame viewer that keeps a single figure.

``SliceViewer`` shows a 2-D image, a 3-D volume (any axis) or a cine loop (frames
along axis 0, greyscale or RGB). Moving the slider redraws the *same* matplotlib
figure; the first view (middle slice, or first frame of a cine) is drawn at once, so
a notebook rendered without a kernel still shows a sensible picture.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

AXIS_NAMES = ("axis 0", "axis 1", "axis 2")


class SliceViewer:
    """Scroll through a 2-D image, a 3-D volume or a cine loop.

    Parameters
    ----------
    array : array-like
        2-D ``(rows, cols)``, 3-D ``(n, rows, cols)`` or an RGB stack
        ``(frames, rows, cols, 3|4)``.
    axis : int
        Axis to slice along for 3-D data (0, 1 or 2).
    spacing : sequence of float, optional
        Physical size of a voxel along each array axis (same order as the array,
        e.g. mm). Used for the aspect ratio; default is 1 for every axis.
    cmap, vmin, vmax : display settings; ``vmin``/``vmax`` default to the data's
        0.5 and 99.5 percentiles so one bright voxel does not wash out the view.
    title : str, optional
        Figure title; the slice/frame position is appended.
    origin : {"upper", "lower"}
        Passed to ``imshow``.
    frame_time : float, optional
        Milliseconds between frames: the title then also shows the time of the frame.
    rgb : bool, optional
        Treat the last axis as colour; guessed when the last axis has 3 or 4 entries
        and the array has 3 or 4 dimensions.
    axis_names : sequence of str, optional
        Names of the array axes shown in the axis selector (e.g. ``("x", "y", "z")``).
    unit : str
        Unit of ``spacing``, shown with the slice position (default ``"mm"``).
    figsize : (float, float)
        Figure size in inches; match it to the image's shape to avoid blank bands.
    colorbar : bool
        Draw a colour bar for greyscale data (default True); switch it off when the
        values have no unit worth reading (e.g. ultrasound brightness).

    A cine's slider counts frames from 1, like the title ("frame 1/120"); a volume's
    slider shows the 0-based slice index, like the title ("axis 0 = 94").
    """

    def __init__(self, array, axis=0, spacing=None, cmap="gray", vmin=None, vmax=None,
                 title=None, origin="upper", frame_time=None, rgb=None,
                 axis_names=None, unit="mm", figsize=(5, 5), colorbar=True):
        arr = np.asarray(array)
        if rgb is None:
            # (rows, cols, 3|4) is a colour picture; (frames, rows, cols, 3|4) a colour cine.
            rgb = arr.ndim in (3, 4) and arr.shape[-1] in (3, 4)
        self.rgb = bool(rgb)
        spatial_ndim = arr.ndim - (1 if self.rgb else 0)
        if spatial_ndim not in (2, 3):
            raise ValueError(
                f"SliceViewer needs a 2-D image or a 3-D volume/cine, got shape {arr.shape}"
                + (" (with an RGB last axis)" if self.rgb else "")
            )
        if self.rgb and spatial_ndim == 3 and axis != 0:
            raise ValueError("RGB stacks are browsed along axis 0 (frames)")
        if spatial_ndim == 3 and axis not in (0, 1, 2):
            raise ValueError(f"axis must be 0, 1 or 2, got {axis}")
        self.unit = unit if spacing is not None else None
        if spacing is None:
            spacing = (1.0,) * spatial_ndim
        spacing = tuple(float(s) for s in spacing)
        if len(spacing) != spatial_ndim or min(spacing) <= 0:
            raise ValueError(
                f"spacing needs {spatial_ndim} positive values (one per array axis), got {spacing}")
        self.array = arr
        self.spatial_ndim = spatial_ndim
        self.spacing = spacing
        self.axis = axis if spatial_ndim == 3 else None
        self.cmap = None if self.rgb else cmap
        if not self.rgb and (vmin is None or vmax is None):
            lo, hi = np.percentile(arr[np.isfinite(arr)], [0.5, 99.5]) if arr.size else (0, 1)
            vmin = float(lo) if vmin is None else vmin
            vmax = float(hi) if vmax is None else vmax
        self.vmin, self.vmax = vmin, vmax
        self.title = title
        self.origin = origin
        self.frame_time = frame_time
        self.show_colorbar = bool(colorbar)
        self.axis_names = tuple(axis_names) if axis_names else AXIS_NAMES[:spatial_ndim]
        # One Figure object per viewer, not managed by pyplot: no figure pile-up.
        self.figure = Figure(figsize=figsize, layout="constrained")
        self.ax = self.figure.add_subplot()
        self._image = None
        self._colorbar = None
        self.index = self.n_slices // 2 if (spatial_ndim == 3 and frame_time is None) else 0
        self._widget = None
        self._png = None  # (view key, PNG bytes) of the last rendered view
        self.draw(self.index)

    # ------------------------------------------------------------------ geometry
    @property
    def n_slices(self) -> int:
        """Number of positions along the browsing axis (1 for a 2-D image)."""
        return 1 if self.axis is None else self.array.shape[self.axis]

    def slice(self, index: int) -> np.ndarray:
        """The 2-D (or RGB) array shown at position ``index``."""
        if self.axis is None:
            return self.array
        if not 0 <= index < self.n_slices:
            raise IndexError(f"index {index} outside 0..{self.n_slices - 1}")
        return np.take(self.array, index, axis=self.axis)

    def aspect(self) -> float:
        """Height/width of one displayed pixel, from the spacing of the shown axes."""
        shown = [i for i in range(self.spatial_ndim) if i != self.axis]
        row_spacing, col_spacing = self.spacing[shown[0]], self.spacing[shown[1]]
        return row_spacing / col_spacing

    # ------------------------------------------------------------------ drawing
    def _label(self, index: int) -> str:
        parts = [self.title] if self.title else []
        if self.axis is not None:
            if self.frame_time is not None:
                parts.append(f"frame {index + 1}/{self.n_slices}, "
                             f"t = {index * self.frame_time / 1000:.3f} s")
            else:
                where = f"{self.axis_names[self.axis]} = {index}"
                if self.unit is not None:
                    where += f" ({index * self.spacing[self.axis]:.1f} {self.unit} from first)"
                parts.append(where)
        return " — ".join(parts)

    def draw(self, index: int | None = None) -> Figure:
        """Show position ``index`` (default: the current one) and return the figure."""
        if index is not None:
            if self.axis is not None and not 0 <= index < self.n_slices:
                raise IndexError(f"index {index} outside 0..{self.n_slices - 1}")
            self.index = index
        img = self.slice(self.index)
        if self._image is None or self._image.get_array().shape != img.shape:
            # First draw, or a new axis with another slice shape: a new image artist
            # in the same axes; the colour bar (same value range) follows it.
            if self._image is not None:
                self._image.remove()
            self._image = self.ax.imshow(img, cmap=self.cmap, vmin=self.vmin, vmax=self.vmax,
                                         origin=self.origin, aspect=self.aspect(),
                                         interpolation="nearest")
            if self.rgb or not self.show_colorbar:
                pass
            elif self._colorbar is None:
                self._colorbar = self.figure.colorbar(self._image, ax=self.ax, shrink=0.8)
            else:
                self._colorbar.update_normal(self._image)
        else:
            self._image.set_data(img)
            self._image.axes.set_aspect(self.aspect())
        self.ax.set_title(self._label(self.index), fontsize=9)
        return self.figure

    def set_axis(self, axis: int) -> None:
        """Browse along another axis of a 3-D volume (starts at its middle slice)."""
        if self.axis is None or self.rgb:
            raise ValueError("only a 3-D greyscale volume can change axis")
        if axis not in (0, 1, 2):
            raise ValueError(f"axis must be 0, 1 or 2, got {axis}")
        self.axis = axis
        self.draw(self.n_slices // 2)

    # ------------------------------------------------------------------ widgets
    def widget(self):
        """The ipywidgets box: slider (+ axis selector for volumes) and the figure."""
        if self._widget is not None:
            return self._widget
        import ipywidgets as widgets
        from IPython.display import Image, display

        out = widgets.Output()

        def render():
            # An explicit PNG: works whatever matplotlib backend the kernel has chosen.
            with out:
                out.clear_output(wait=True)
                display(Image(data=self.png()))

        controls = []
        if self.axis is not None:
            # A cine counts frames from 1 (as its title does); a volume shows the index.
            first = 1 if self.frame_time is not None else 0
            slider = widgets.IntSlider(value=self.index + first, min=first,
                                       max=self.n_slices - 1 + first,
                                       description="frame" if self.frame_time else "slice",
                                       continuous_update=False)

            def on_slide(change):
                self.draw(change["new"] - first)
                render()

            slider.observe(on_slide, names="value")
            controls.append(slider)
            if not self.rgb and self.frame_time is None:
                chooser = widgets.Dropdown(
                    options=[(name, i) for i, name in enumerate(self.axis_names)],
                    value=self.axis, description="axis")

                def on_axis(change):
                    self.set_axis(change["new"])
                    slider.unobserve(on_slide, names="value")
                    slider.max = self.n_slices - 1
                    slider.value = self.index
                    slider.observe(on_slide, names="value")
                    render()

                chooser.observe(on_axis, names="value")
                controls.append(chooser)
        render()
        self._widget = widgets.VBox([widgets.HBox(controls), out])
        return self._widget

    def png(self) -> bytes:
        """The current view as PNG bytes (rendered once per view, then reused)."""
        import io

        key = (self.axis, self.index)
        if self._png is None or self._png[0] != key:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=100)  # STYLE: >= 100 dpi
            self._png = (key, buffer.getvalue())
        return self._png[1]

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Live widget in Jupyter; the current view as a PNG for static renderers.

        JupyterLab shows the widget (its renderer outranks images); GitHub, nbviewer
        and exports without widget state fall back to the picture of the first view.
        """
        import base64

        bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["image/png"] = base64.b64encode(self.png()).decode("ascii")
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return (f"SliceViewer(shape={self.array.shape}, axis={self.axis}, "
                f"index={self.index}, spacing={self.spacing})")
