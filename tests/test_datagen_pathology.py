"""Episode 05 whole-slide builder: a real pyramid OpenSlide reads, deterministic, seamless,
and verification (and ``fetch_data.py --check``) catches damaged tiles and wrong metadata.

The real slide (30000 x 22500 px) is built by fetch_data.py; here the same builder makes a
small one (4096 x 3072 px, five levels) so the tests stay quick.
"""

from __future__ import annotations

import shutil

import numpy as np
import openslide
import pytest
import tifffile

import fetch_data
from medimg._datagen import pathology as wsi

W, H = 4096, 3072


def build(path, **kw):
    wsi.build_pathology_wsi(path, W, H, **kw)
    return path


@pytest.fixture(scope="module")
def slide_path(tmp_path_factory):
    return build(tmp_path_factory.mktemp("wsi") / "small.tif")


def tile_table(path, level=0):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[level]
        return list(page.dataoffsets), list(page.databytecounts)


def damaged_copy(src, dst, index, how, seed=0):
    """Copy ``src`` and damage level-0 tile ``index``: zero it, or overwrite its middle third."""
    shutil.copyfile(src, dst)
    offsets, counts = tile_table(src)
    with open(dst, "r+b") as fh:
        if how == "zero":
            fh.seek(offsets[index])
            fh.write(bytes(counts[index]))
        else:
            third = counts[index] // 3
            fh.seek(offsets[index] + third)
            fh.write(np.random.default_rng(seed).integers(0, 256, third, np.uint8).tobytes())
    return dst


def tissue_tile_in_sample(path):
    """A level-0 tile the verifier decodes (every SAMPLE_EVERY-th) that holds tissue."""
    _, counts = tile_table(path)
    sampled = range(0, len(counts), wsi.SAMPLE_EVERY)
    return max(sampled, key=lambda i: counts[i])  # glass tiles compress to almost nothing


def test_level_sizes_of_the_real_slide():
    sizes = wsi.level_sizes(wsi.WIDTH, wsi.HEIGHT)
    assert sizes[0] == (30000, 22500)
    assert max(sizes[-1]) <= wsi.TILE < max(sizes[-2])  # stops when one tile holds the level
    for (w0, h0), (w1, h1) in zip(sizes, sizes[1:]):
        assert (w1, h1) == (w0 // 2, h0 // 2)
    assert (937, 703) in sizes  # not an exact power-of-two reduction: the lesson shows it


def test_small_slide_verifies_and_openslide_reads_it(slide_path):
    wsi.verify_pathology_wsi(slide_path, W, H)
    with openslide.OpenSlide(slide_path) as slide:
        assert slide.properties[openslide.PROPERTY_NAME_VENDOR] == "generic-tiff"
        assert slide.level_count == len(wsi.level_sizes(W, H)) == 5
        assert float(slide.properties[openslide.PROPERTY_NAME_MPP_X]) == pytest.approx(0.5)
        assert float(slide.properties[openslide.PROPERTY_NAME_MPP_Y]) == pytest.approx(0.5)
        assert "openslide.comment" not in slide.properties  # no tifffile JSON leaked
        thumb = np.asarray(slide.get_thumbnail((512, 512)))
    spread = thumb.max(axis=-1).astype(int) - thumb.min(axis=-1)
    glass, tissue = (spread <= 8).mean(), (spread > 30).mean()
    assert glass > 0.2 and tissue > 0.1, (glass, tissue)  # both glass and stained tissue


def test_build_is_deterministic(slide_path, tmp_path):
    assert build(tmp_path / "again.tif").read_bytes() == slide_path.read_bytes()


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_no_seams_at_tile_borders(slide_path, level):
    """Pixel steps across tile borders are like steps inside tiles (no visible seams)."""
    with tifffile.TiffFile(slide_path) as tif:
        image = tif.pages[level].asarray().astype(np.float32)
    cols = np.abs(np.diff(image, axis=1)).mean(axis=(0, 2))  # step between column j and j+1
    rows = np.abs(np.diff(image, axis=0)).mean(axis=(1, 2))
    border_cols = cols[wsi.TILE - 1::wsi.TILE]
    border_rows = rows[wsi.TILE - 1::wsi.TILE]
    assert border_cols.size and border_rows.size
    assert border_cols.mean() < 1.5 * np.median(cols) + 1
    assert border_rows.mean() < 1.5 * np.median(rows) + 1


def test_tiles_are_encoded_as_tifffile_would_and_decode_to_the_drawn_pixels(slide_path, tmp_path):
    """The builder JPEG-encodes tiles itself (glass once per level); the bytes must be what
    tifffile writes for the same pixels, and the stored tiles must decode to those pixels."""
    size = wsi.level_sizes(W, H)[0]
    weak, strong = wsi._stain_variants(wsi._ihc_rgb())
    level = wsi._Level(0, size, size, weak, strong, wsi._fields(W, H))
    cols, rows = wsi._tiles(size)
    drawn = {(c, r): level.pixels(c, r) for r in range(rows) for c in range(cols)}
    tissue = [cr for cr, px in drawn.items() if px is not None]
    glass = [cr for cr, px in drawn.items() if px is None]
    assert tissue and glass
    col, row = tissue[len(tissue) // 2]
    pixels = drawn[col, row]
    ref = tmp_path / "tifffile_encoded.tif"
    tifffile.imwrite(ref, pixels, tile=(wsi.TILE, wsi.TILE), photometric="rgb",
                     compression="jpeg", compressionargs={"level": wsi.JPEG_QUALITY})
    offsets, counts = tile_table(ref)
    with open(ref, "rb") as fh:
        fh.seek(offsets[0])
        assert fh.read(counts[0]) == level.tile(col, row)

    offsets, counts = tile_table(slide_path)
    with tifffile.TiffFile(slide_path) as tif:
        page = tif.pages[0]
        assert page.photometric == tifffile.PHOTOMETRIC.YCBCR  # what the tags announce
        stored = page.asarray()
    y, x = row * wsi.TILE, col * wsi.TILE
    decoded = stored[y:y + wsi.TILE, x:x + wsi.TILE].astype(float)
    assert np.abs(decoded - pixels).mean() < 3  # JPEG q80: small, but not zero
    glass_counts = {counts[r * cols + c] for c, r in glass}
    assert len(glass_counts) == 1  # every glass tile is the same stream
    c, r = glass[0]
    assert (stored[r * wsi.TILE:(r + 1) * wsi.TILE, c * wsi.TILE:(c + 1) * wsi.TILE]
            .reshape(-1, 3).mean(axis=0).round() == wsi.BACKGROUND_RGB).all()


def test_zeroed_tile_is_rejected(slide_path, tmp_path):
    bad = damaged_copy(slide_path, tmp_path / "bad.tif", index=5, how="zero")
    with pytest.raises(ValueError, match="level 0 tile 5 is damaged"):
        wsi.verify_pathology_wsi(bad, W, H)


@pytest.mark.parametrize("seed", range(4))
def test_garbled_tile_that_still_decodes_is_rejected(slide_path, tmp_path, seed):
    index = tissue_tile_in_sample(slide_path)
    bad = damaged_copy(slide_path, tmp_path / "bad.tif", index=index, how="garble", seed=seed)
    with pytest.raises(ValueError, match=f"level 0 tile {index}"):
        wsi.verify_pathology_wsi(bad, W, H)


def test_wrong_resolution_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(wsi, "MPP", 1000.0)  # a unit mix-up: 1 mm per pixel
    bad = build(tmp_path / "mm_per_px.tif")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="resolution"):
        wsi.verify_pathology_wsi(bad, W, H)


def test_wrong_size_truncated_and_missing_files_are_rejected(slide_path, tmp_path):
    with pytest.raises(ValueError, match="pyramid levels|level 0 is"):
        wsi.verify_pathology_wsi(slide_path)  # the small slide is not the course's slide
    cut = tmp_path / "cut.tif"
    cut.write_bytes(slide_path.read_bytes()[: slide_path.stat().st_size // 2])
    with pytest.raises(ValueError):
        wsi.verify_pathology_wsi(cut, W, H)
    with pytest.raises(ValueError, match="not a file"):
        wsi.verify_pathology_wsi(tmp_path / "absent.tif", W, H)


def test_fetch_data_check_fails_on_a_corrupted_tile(tmp_path, monkeypatch, capsys):
    """Through fetch_data.py as a learner runs it (a small slide stands in for the real one)."""
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    monkeypatch.setattr(wsi, "WIDTH", W)
    monkeypatch.setattr(wsi, "HEIGHT", H)
    assert fetch_data.main(["--only", "pathology_wsi"]) == 0
    assert fetch_data.main(["--check", "--only", "pathology_wsi"]) == 0
    capsys.readouterr()
    target = tmp_path / next(d.path for d in fetch_data.DATASETS if d.name == "pathology_wsi")
    good = target.read_bytes()
    damaged_copy(target, target.with_name("damaged.tif"), tissue_tile_in_sample(target), "garble")
    shutil.move(target.with_name("damaged.tif"), target)

    assert fetch_data.main(["--check", "--only", "pathology_wsi"]) == 1  # hash differs
    out = capsys.readouterr().out
    assert "PROBLEM  pathology_wsi" in out and "changed since it was built" in out

    (tmp_path / "manifest.json").unlink()  # without the hash, the verifier must catch it
    assert fetch_data.main(["--check", "--only", "pathology_wsi"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM  pathology_wsi: failed verification" in out and "Traceback" not in out

    assert fetch_data.main(["--only", "pathology_wsi"]) == 0  # a plain run repairs it
    assert target.read_bytes() == good
