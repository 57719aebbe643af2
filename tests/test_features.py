"""Episode 04's hand-written radiomic features match pyradiomics 3.0.1 to 4 decimals.

The feature code is what learners read, so it is taken from the notebook itself: the one
code cell tagged ``features`` in ``notebooks/04_preparing_for_ml.ipynb``. The reference
values were computed once with pyradiomics 3.0.1 outside the course environment (it
cannot be installed with our pins); ``tests/data/pyradiomics_reference.json`` records them
with their provenance, the image and the ROI.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import nbformat
import numpy as np
import pydicom
import pytest

from medimg.sources import package_file

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_preparing_for_ml.ipynb"
REFERENCE = ROOT / "tests" / "data" / "pyradiomics_reference.json"
NAMES = {"mean": "firstorder_Mean", "variance": "firstorder_Variance",
         "skewness": "firstorder_Skewness", "kurtosis": "firstorder_Kurtosis",
         "entropy": "firstorder_Entropy", "contrast": "glcm_Contrast",
         "correlation": "glcm_Correlation", "joint_energy": "glcm_JointEnergy",
         "homogeneity": "glcm_Idm"}


def source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def feature_code():
    """Namespace after running the setup cell's imports and the ``features`` cell."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "features" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one code cell tagged 'features'"
    setup = ast.parse(source(code[0]))
    imports = ast.Module([n for n in setup.body if isinstance(n, (ast.Import, ast.ImportFrom))],
                         type_ignores=[])
    namespace: dict = {}
    exec(compile(imports, "setup-imports", "exec"), namespace)
    exec(compile(source(tagged[0]), "features-cell", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def image_and_roi(reference):
    path = package_file("data_store", "data/693_UNCR.dcm")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == reference["image"]["sha256"]
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    rr, cc = np.mgrid[0:hu.shape[0], 0:hu.shape[1]]
    roi = ((rr - 320) ** 2 + (cc - 300) ** 2 <= 40 ** 2) & (hu >= 0) & (hu <= 80)
    # the ROI is the one the reference was computed for
    assert int(roi.sum()) == reference["roi"]["pixel_count"]
    digest = hashlib.sha256(np.ascontiguousarray(roi, dtype=np.uint8).tobytes()).hexdigest()
    assert digest == reference["roi"]["mask_sha256"]
    return hu, roi


def ours(feature_code, hu, roi, bin_width):
    return (feature_code["first_order"](hu, roi, bin_width)
            | feature_code["glcm_features"](hu, roi, bin_width))


def test_reference_has_provenance(reference):
    prov = reference["provenance"]
    assert prov["pyradiomics"].lstrip("v") == "3.0.1"
    for key in ("numpy", "SimpleITK", "python", "date_utc", "install", "command", "settings"):
        assert prov[key], key
    assert prov["settings"]["binWidth"] == 5.0 and prov["settings"]["force2D"] is True
    assert reference["roi"]["definition"] and reference["image"]["file"].startswith("693_UNCR")
    assert set(f"original_{v}" for v in NAMES.values()) <= set(reference["features"])


def test_notebook_bin_width_is_the_reference_setting(feature_code, reference):
    assert feature_code["BIN_WIDTH"] == reference["provenance"]["settings"]["binWidth"]


def test_features_match_pyradiomics_to_4_decimals(feature_code, image_and_roi, reference):
    hu, roi = image_and_roi
    got = ours(feature_code, hu, roi, feature_code["BIN_WIDTH"])
    assert set(got) == set(NAMES)
    for name, key in NAMES.items():
        want = reference["features"][f"original_{key}"]
        assert round(got[name], 4) == pytest.approx(round(want, 4), abs=1e-12), name
        assert abs(got[name] - want) < 5e-5, name


def test_the_comparison_detects_other_settings(feature_code, image_and_roi, reference):
    """With another bin width the texture features no longer match: the test can fail."""
    hu, roi = image_and_roi
    got = ours(feature_code, hu, roi, 25.0)
    for name in ("entropy", "contrast", "joint_energy", "homogeneity"):
        want = reference["features"][f"original_{NAMES[name]}"]
        assert abs(got[name] - want) > 1e-3, name


def test_glcm_ignores_pairs_that_leave_the_roi(feature_code):
    """A two-level checkerboard ROI inside a constant background: the background must not
    add co-occurrences, so contrast is that of the ROI alone."""
    image = np.full((12, 12), 1000.0)
    mask = np.zeros((12, 12), bool)
    mask[3:9, 3:9] = True
    image[3:9, 3:9] = np.where(np.indices((6, 6)).sum(axis=0) % 2 == 0, 0.0, 5.0)
    feats = feature_code["glcm_features"](image, mask, 5.0)
    # horizontal/vertical neighbours always differ by one level, diagonal ones never:
    # contrast = (1 + 0 + 1 + 0) / 4
    assert feats["contrast"] == pytest.approx(0.5)
    assert feats["correlation"] == pytest.approx(0.0, abs=1e-12)
