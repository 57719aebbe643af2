"""Derived data for episode 05 (pathology whole-slide images).

``pathology_wsi``
    A pyramidal, tiled, JPEG-compressed TIFF "whole-slide image" of 30000 x 22500 px at
    level 0 and 0.5 um/px, the layout a slide scanner writes and OpenSlide reads
    (vendor ``generic-tiff``).  Its pixels are *assembled from a real stain image*: the
    512 x 512 immunohistochemistry (IHC) photograph of colonic tissue that ships with
    scikit-image (``skimage/data/ihc.png``; haematoxylin = blue nuclei, DAB = brown
    positive staining).  That photograph is

    - enlarged 2x (so it spans 512 um at 0.5 um/px) and mirrored into a seamless
      2 x 2 block that repeats over the slide;
    - split by colour deconvolution into haematoxylin and DAB and recombined with the
      haematoxylin darkened (HAEMATOXYLIN_GAIN, so that pale tissue still differs from
      glass in a thumbnail) and with weak and with strong DAB, then blended between the
      two by a smooth seeded field (so DAB positivity varies across the slide and a heat
      map has something to show);
    - cut out by a seeded tissue mask (a few irregular tissue sections on near-white
      glass), so tissue detection has background to reject.

    Every pyramid level is drawn directly from the same recipe at its own scale (the
    textures are precomputed once per level: the photograph enlarged 2x for level 0,
    as it is for level 1, box-averaged for the smaller levels), tile by tile from a
    generator, so the memory use stays bounded and no level shows seams.  Tiles are
    JPEG-encoded in two threads as they are drawn (empty glass once per level) and
    handed to tifffile as bytes: about 5 s of CPU for the full slide.  All levels sit in
    the main IFD chain (OpenSlide ignores SubIFD pyramids); reduced levels have
    ``subfiletype=1``; resolution is stored in pixels per centimetre (20000/cm at level 0
    = 0.5 um/px).  ihc.png records no pixel size: the builder *chooses* 1 um per source
    pixel, which makes its nuclei roughly 10 um across (median minor axis of its
    Otsu-thresholded haematoxylin blobs: 9.6 px), the right order for real nuclei.

Builder / verifier pair (see ``fetch_data.py``): ``build_pathology_wsi(target)`` and
``verify_pathology_wsi(path)``.  Both take ``width``/``height`` keywords so that the
tests can build and check a small slide quickly with the same code.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from medimg import sources

# --- the slide ----------------------------------------------------------------------------
IHC_FILE = "data/ihc.png"  # inside the scikit-image package
WIDTH = 30000  # level-0 pixels (x)
HEIGHT = 22500  # level-0 pixels (y)
TILE = 256  # TIFF tile size (px), every level
MPP = 0.5  # micrometres per pixel at level 0 (a "20x" scan)
JPEG_QUALITY = 80
SEED = 20261130
BACKGROUND_RGB = (239, 237, 242)  # empty glass, slightly bluish white

# --- how the texture and the fields are made -------------------------------------------
TEXTURE_ZOOM = 2  # ihc.png enlarged 2x at level 0 (its pixels become 1 um)
HAEMATOXYLIN_GAIN = 1.8  # haematoxylin optical density scaled by this (a darker counterstain)
DAB_WEAK, DAB_STRONG = 0.3, 1.3  # DAB optical density scaled by these at the field's ends
GRID = 256  # spacing (level-0 px) of the coarse grid that carries the smooth fields
EDGE_SOFTNESS = 0.015  # width of the tissue/glass transition, in tissue-field units

# --- what the verifier accepts ------------------------------------------------------------
TISSUE_FRACTION_RANGE = (0.15, 0.75)  # of the smallest level's area
SAMPLE_EVERY = 97  # decode every 97th level-0 tile (plus every tile of the small levels)
COMPARE_LEVEL = 4  # sampled level-0 tiles are compared with this level (16x smaller)
MAX_LEVEL_DIFFERENCE = 15.0  # mean |difference|, grey levels (intact: <= 9.5; garbled: > 20)


# ----------------------------------------------------------------------------- geometry
def level_sizes(width: int = WIDTH, height: int = HEIGHT) -> list[tuple[int, int]]:
    """(width, height) of every pyramid level: halve (rounding down) until one tile holds it."""
    sizes = [(width, height)]
    while max(sizes[-1]) > TILE:
        w, h = sizes[-1]
        sizes.append((max(w // 2, 1), max(h // 2, 1)))
    return sizes


def _tiles(size: tuple[int, int]) -> tuple[int, int]:
    """Tile columns and rows of a level."""
    return math.ceil(size[0] / TILE), math.ceil(size[1] / TILE)


# ----------------------------------------------------------------------------- sources
def _ihc_rgb() -> np.ndarray:
    from skimage import io

    image = io.imread(sources.package_file("skimage", IHC_FILE))
    if image.shape != (512, 512, 3) or image.dtype != np.uint8:
        raise ValueError(f"unexpected ihc.png: {image.shape} {image.dtype}; reinstall "
                         f"scikit-image (`pip install -r requirements.txt`)")
    return image


def _stain_variants(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The IHC image with weak and with strong DAB (colour deconvolution, rescaled DAB)."""
    from skimage.color import hed2rgb, rgb2hed

    hed = rgb2hed(rgb)
    out = []
    for scale in (DAB_WEAK, DAB_STRONG):
        mixed = hed.copy()
        mixed[..., 0] *= HAEMATOXYLIN_GAIN
        mixed[..., 2] *= scale
        out.append(np.clip(hed2rgb(mixed) * 255.0, 0, 255))
    return out[0], out[1]


def _level_texture(image: np.ndarray, k: int) -> np.ndarray:
    """``image`` at the scale of pyramid level ``k`` (TEXTURE_ZOOM / 2**k: 2x enlarged at
    level 0, as it is at level 1, box-averaged 2**(k-1) x 2**(k-1) from level 2 on, as a
    scanner's reduced levels are), mirrored into a seamless 2x2 block, and padded by one
    tile (periodically) so any tile-sized window can be sliced without wrapping."""
    if TEXTURE_ZOOM != 2:
        raise ValueError("_level_texture assumes TEXTURE_ZOOM == 2")
    pixels = image.astype(np.float32)
    if k == 0:
        pixels = _enlarge_2x(_enlarge_2x(pixels, axis=0), axis=1)
    elif k >= 2:
        f = min(2 ** (k - 1), image.shape[0] // 2)  # 512 px: factors up to 256 divide it
        n = image.shape[0] // f
        pixels = pixels[:n * f, :n * f].reshape(n, f, n, f, 3).mean(axis=(1, 3))
    small = np.clip(pixels + 0.5, 0, 255).astype(np.uint8)
    block = np.concatenate([small, small[:, ::-1]], axis=1)
    block = np.concatenate([block, block[::-1]], axis=0)
    period = block.shape[0]
    index = np.arange(period + TILE) % period
    return np.ascontiguousarray(block[index][:, index])


def _enlarge_2x(a: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation to twice the size along ``axis`` (pixel centres, mirrored
    edges; what ``skimage.transform.resize(order=1, mode="symmetric")`` computes)."""
    a = np.moveaxis(a, axis, 0)
    before = np.concatenate([a[:1], a[:-1]])  # neighbour above (edge repeated)
    after = np.concatenate([a[1:], a[-1:]])  # neighbour below
    out = np.empty((2 * a.shape[0],) + a.shape[1:], a.dtype)
    out[0::2] = 0.75 * a + 0.25 * before
    out[1::2] = 0.75 * a + 0.25 * after
    return np.moveaxis(out, 0, axis)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    from scipy import ndimage

    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
    return (field - field.mean()) / field.std()


def _fields(width: int, height: int) -> np.ndarray:
    """Tissue field (index 0; tissue where > 0.5) and DAB weight (index 1, 0..1) on a
    coarse grid of GRID level-0 px reaching past the slide's edges.  Node [row i,
    column j] sits at level-0 pixel (x, y) = (j * GRID, i * GRID)."""
    rng = np.random.default_rng(SEED)
    ny, nx = math.ceil(height / GRID) + 3, math.ceil(width / GRID) + 3
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    yy, xx = yy * GRID / height, xx * GRID / width  # 0..1 across the slide
    # three tissue sections: ellipses (centre x, centre y, half axes, angle) in slide units;
    # r < 1 inside each; the tissue field is 1.5 - r (+ noise), tissue where it is > 0.5
    sections = [(0.29, 0.47, 0.19, 0.33, 0.35), (0.70, 0.36, 0.17, 0.22, -0.5),
                (0.68, 0.79, 0.13, 0.11, 0.2)]
    radius = np.full((ny, nx), np.inf)
    for cx, cy, ax, ay, angle in sections:
        dx, dy = xx - cx, (yy - cy) * height / width
        u = (dx * math.cos(angle) + dy * math.sin(angle)) / ax
        v = (-dx * math.sin(angle) + dy * math.cos(angle)) / (ay * height / width)
        radius = np.minimum(radius, np.hypot(u, v))
    cells = max(nx, ny)
    tissue = 1.5 - radius + 0.25 * _smooth_field(rng, (ny, nx), cells / 40)
    dab = np.clip(0.5 + 0.45 * _smooth_field(rng, (ny, nx), cells / 15), 0.0, 1.0)
    return np.stack([tissue, dab]).astype(np.float32)


# ----------------------------------------------------------------------------- tiles
class _Level:
    """Everything needed to draw and encode the tiles of one level."""

    def __init__(self, k: int, size: tuple[int, int], base: tuple[int, int],
                 weak: np.ndarray, strong: np.ndarray, fields: np.ndarray):
        self.size = size
        self.scale_x, self.scale_y = base[0] / size[0], base[1] / size[1]  # downsample
        self.weak = _level_texture(weak, k)
        self.strong = _level_texture(strong, k)
        self.period = self.weak.shape[0] - TILE
        self.fields = fields
        cols, rows = _tiles(size)
        # interpolation weights depend only on a tile's column (x) or row (y): compute them
        # once; x weights are repeated for R, G, B so the fields come out as (TILE, 3 * TILE)
        # rows of interleaved RGB, the memory layout of a tile (fast NumPy inner loops)
        self.wx = [(x0, np.repeat(w, 3, axis=0)) for x0, w in
                   (self._weights(c * TILE, self.scale_x, fields.shape[2]) for c in range(cols))]
        self.wy = [self._weights(r * TILE, self.scale_y, fields.shape[1]) for r in range(rows)]
        background = np.empty((TILE, TILE, 3), np.uint8)
        background[:] = BACKGROUND_RGB
        self.background = _encode(background)  # empty glass: encoded once per level

    @staticmethod
    def _weights(start: int, scale: float, nodes: int) -> tuple[int, np.ndarray]:
        """Linear-interpolation weights (TILE x m) from m coarse nodes, starting at node
        ``first``, to the centres of TILE level pixels (clamped to the grid: padding
        beyond the slide's edge repeats the last node)."""
        pos = np.clip(((start + np.arange(TILE) + 0.5) * scale - 0.5) / GRID, 0, nodes - 1.001)
        i = np.floor(pos).astype(int)
        frac = (pos - i).astype(np.float32)
        first = int(i[0])
        weights = np.zeros((TILE, int(i[-1]) - first + 2), np.float32)
        rows = np.arange(TILE)
        weights[rows, i - first] = 1 - frac
        weights[rows, i - first + 1] = frac
        return first, weights

    def pixels(self, col: int, row: int) -> np.ndarray | None:
        """The RGB pixels of tile (col, row), or None if it is all empty glass."""
        (x0, wx), (y0, wy) = self.wx[col], self.wy[row]
        nodes = self.fields[:, y0:y0 + wy.shape[1], x0:x0 + wx.shape[1]]
        if nodes[0].max() <= 0.5 - EDGE_SOFTNESS:
            return None  # bilinear values never exceed the nodes: empty glass
        f = wy @ nodes @ wx.T  # (2, TILE, 3 * TILE): tissue field and DAB weight
        oy, ox = (row * TILE) % self.period, (col * TILE) % self.period
        out = self.strong[oy:oy + TILE, ox:ox + TILE].reshape(TILE, -1).astype(np.float32)
        weak = self.weak[oy:oy + TILE, ox:ox + TILE].reshape(TILE, -1).astype(np.float32)
        out -= weak  # weak + (strong - weak) * DAB weight, in place
        out *= f[1]
        out += weak
        if nodes[0].min() < 0.5 + EDGE_SOFTNESS:  # near a tissue edge: blend into glass
            alpha = np.clip((f[0] - 0.5) / (2 * EDGE_SOFTNESS) + 0.5, 0, 1)
            out -= BACKGROUND_ROW
            out *= alpha
            out += BACKGROUND_ROW
        out += 0.5
        return out.astype(np.uint8).reshape(TILE, TILE, 3)

    def tile(self, col: int, row: int) -> bytes:
        """Tile (col, row) as a JPEG stream, as it is stored in the TIFF."""
        pixels = self.pixels(col, row)
        return self.background if pixels is None else _encode(pixels)

    def tiles(self, pool, progress=None):
        """Encoded tiles in TIFF order (row by row), made two at a time (NumPy and the JPEG
        encoder release the GIL)."""
        cols, rows = _tiles(self.size)
        for row in range(rows):
            yield from pool.map(self.tile, range(cols), [row] * cols)
            if progress is not None:
                progress(cols)


def _encode(pixels: np.ndarray) -> bytes:
    """One JPEG tile exactly as tifffile writes it for ``photometric="rgb"`` with JPEG:
    YCbCr with 2x2 chroma subsampling (TIFF tags set by tifffile to match)."""
    import imagecodecs

    return imagecodecs.jpeg8_encode(pixels, level=JPEG_QUALITY, colorspace="RGB",
                                    outcolorspace="YCBCR", subsampling=(2, 2))


BACKGROUND_ROW = np.tile(np.array(BACKGROUND_RGB, np.float32), TILE)  # one tile row, RGB


def _limit_blas_threads():
    """One BLAS thread while building (threadpoolctl when installed; else a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def build_pathology_wsi(target: Path, width: int | None = None, height: int | None = None,
                        progress=None) -> None:
    """Write the whole-slide TIFF at ``target`` (fetch_data.py passes a temporary path).

    ``width``/``height`` default to WIDTH/HEIGHT; ``progress(n)`` is called after every
    row of n tiles."""
    import tifffile

    target = Path(target)
    width = WIDTH if width is None else width
    height = HEIGHT if height is None else height
    sizes = level_sizes(width, height)
    with _limit_blas_threads():
        weak, strong = _stain_variants(_ihc_rgb())
        fields = _fields(width, height)
        with tifffile.TiffWriter(target, bigtiff=False) as tif, \
                ThreadPoolExecutor(2) as pool:
            for k, size in enumerate(sizes):
                level = _Level(k, size, sizes[0], weak, strong, fields)
                mpp_x, mpp_y = MPP * level.scale_x, MPP * level.scale_y
                # tiles arrive JPEG-encoded (bytes): tifffile stores them as they are and
                # writes the JPEG tags (YCbCr, 2x2 subsampling) that match _encode
                tif.write(level.tiles(pool, progress), shape=(size[1], size[0], 3), dtype=np.uint8,
                          tile=(TILE, TILE), photometric="rgb", compression="jpeg",
                          compressionargs={"level": JPEG_QUALITY},
                          subfiletype=0 if k == 0 else 1,
                          resolution=(1e4 / mpp_x, 1e4 / mpp_y), resolutionunit="CENTIMETER",
                          software="medimg fetch_data.py", metadata=None)


# ----------------------------------------------------------------------------- verify
def _fail(path: Path, what: str):
    raise ValueError(f"{Path(path).name}: {what}")


def verify_pathology_wsi(path: Path, width: int | None = None,
                         height: int | None = None) -> None:
    """Raise ValueError unless ``path`` is the slide ``build_pathology_wsi`` writes:
    levels and their sizes, tiling, JPEG, resolution (0.5 um/px at level 0, as
    OpenSlide reads it), intact tiles, and plausible decoded pixels."""
    import tifffile

    path = Path(path)
    width = WIDTH if width is None else width
    height = HEIGHT if height is None else height
    if not path.is_file():
        _fail(path, "not a file")
    sizes = level_sizes(width, height)
    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, OSError, ValueError) as exc:
        _fail(path, f"not a readable TIFF ({exc})")
    with tif:
        pages = tif.pages
        if len(pages) != len(sizes):
            _fail(path, f"{len(pages)} pyramid levels in the main IFD chain, expected "
                        f"{len(sizes)}")
        sample = []
        for k, (page, size) in enumerate(zip(pages, sizes)):
            where = f"level {k}"
            if page.shape != (size[1], size[0], 3) or page.dtype != np.uint8:
                _fail(path, f"{where} is {page.shape} {page.dtype}, expected "
                            f"{(size[1], size[0], 3)} uint8")
            if (page.tilewidth, page.tilelength) != (TILE, TILE):
                _fail(path, f"{where} tiles are {page.tilewidth}x{page.tilelength}, "
                            f"expected {TILE}x{TILE}")
            if page.compression != tifffile.COMPRESSION.JPEG:
                _fail(path, f"{where} is not JPEG-compressed")
            if page.subfiletype != (0 if k == 0 else 1):
                _fail(path, f"{where} has subfiletype {page.subfiletype}")
            if page.resolutionunit != tifffile.RESUNIT.CENTIMETER:
                _fail(path, f"{where} resolution unit is not centimetre")
            expected = (1e4 / (MPP * sizes[0][0] / size[0]), 1e4 / (MPP * sizes[0][1] / size[1]))
            if not np.allclose(page.resolution, expected, rtol=1e-4):
                _fail(path, f"{where} resolution {page.resolution} px/cm, expected "
                            f"{tuple(round(v, 1) for v in expected)}")
            _check_tile_markers(path, tif, page, where)
            n = len(page.dataoffsets)
            picks = range(n) if n <= 64 else range(k, n, SAMPLE_EVERY) if k == 0 else []
            sample.extend((k, page, i) for i in picks)
        reference_level = min(COMPARE_LEVEL, len(sizes) - 1)
        reference = _decode_level(path, pages[reference_level])
        for k, page, i in sample:
            tile = _check_decoded_tile(path, tif, page, i, f"level {k} tile {i}")
            if k == 0:
                _compare_with_level(path, tile, i, sizes, reference_level, reference)
        smallest = _decode_level(path, pages[-1])
    saturation = smallest.max(axis=-1).astype(int) - smallest.min(axis=-1)
    tissue = float((saturation > 12).mean())  # glass: max - min of RGB is about 5
    low, high = TISSUE_FRACTION_RANGE
    if not low <= tissue <= high:
        _fail(path, f"tissue covers {tissue:.0%} of the smallest level, expected "
                    f"{low:.0%}-{high:.0%}")
    _check_openslide(path, sizes)


def _check_tile_markers(path, tif, page, where):
    """Every tile is a complete JPEG stream: starts with SOI (FFD8), ends with EOI (FFD9)."""
    fh = tif.filehandle
    for i, (offset, count) in enumerate(zip(page.dataoffsets, page.databytecounts)):
        if count < 4:
            _fail(path, f"{where} tile {i} is empty")
        fh.seek(offset)
        head = fh.read(2)
        fh.seek(offset + count - 2)
        tail = fh.read(2)
        if head != b"\xff\xd8" or tail != b"\xff\xd9":
            _fail(path, f"{where} tile {i} is damaged (not a complete JPEG stream)")


def _check_decoded_tile(path, tif, page, index, where):
    fh = tif.filehandle
    fh.seek(page.dataoffsets[index])
    raw = fh.read(page.databytecounts[index])
    try:
        tile, _, shape = page.decode(raw, index, jpegtables=page.jpegtables)
    except Exception as exc:  # imagecodecs raises its own error types
        _fail(path, f"{where} cannot be decoded ({type(exc).__name__}: {exc})")
    tile = np.asarray(tile).reshape(TILE, TILE, 3)
    # glass is near-white and flat; tissue is darker and textured: either is plausible,
    # a uniform grey/black block (zeros, garbage) is not
    mean, std = float(tile.mean()), float(tile.std())
    if not (30 <= mean <= 252) or (mean < 225 and std < 4):
        _fail(path, f"{where} decodes to implausible pixels (mean {mean:.0f}, sd {std:.0f})")
    return tile


def _compare_with_level(path, tile, index, sizes, level, reference):
    """A level-0 tile, averaged down, must look like the same place at a reduced level:
    garbled JPEG data that still decodes shows up here."""
    cols = _tiles(sizes[0])[0]
    row, col = divmod(index, cols)
    down = sizes[0][0] / sizes[level][0]
    n = int(round(TILE / down))  # the tile's side at the reduced level
    y0, x0 = int(round(row * TILE / down)), int(round(col * TILE / down))
    expected = reference[y0:y0 + n, x0:x0 + n].astype(np.float32)
    h, w = expected.shape[:2]
    if h < n or w < n:
        return  # a tile at the slide's edge: partly padding
    f = TILE // n
    averaged = tile[:n * f, :n * f].reshape(n, f, n, f, 3).mean(axis=(1, 3))
    error = float(np.abs(averaged - expected).mean())
    if error > MAX_LEVEL_DIFFERENCE:
        _fail(path, f"level 0 tile {index} differs from level {level} at the same place "
                    f"(mean difference {error:.1f} grey levels): damaged tile")


def _decode_level(path, page) -> np.ndarray:
    try:
        return page.asarray()
    except Exception as exc:
        _fail(path, f"smallest level cannot be decoded ({type(exc).__name__}: {exc})")


def _check_openslide(path: Path, sizes) -> None:
    """OpenSlide must see the same pyramid and 0.5 um/px (skipped if it is not installed)."""
    try:
        import openslide
    except ImportError:
        return
    with openslide.OpenSlide(str(path)) as slide:
        if slide.level_count != len(sizes) or list(slide.level_dimensions) != sizes:
            _fail(path, f"OpenSlide sees levels {slide.level_dimensions}, expected {sizes}")
        for axis in ("x", "y"):
            mpp = float(slide.properties.get(f"openslide.mpp-{axis}", "nan"))
            if not abs(mpp - MPP) < 1e-3:
                _fail(path, f"OpenSlide reads mpp-{axis} = {mpp}, expected {MPP}")
