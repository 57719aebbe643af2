"""Build and verify the episode 04 data (preparing images for machine learning).

``cxr_cohort``
    A small simulated multi-site cohort of chest radiographs, written as DICOM (CR).
    Every image is a variant of ONE real radiograph, ``RG1_UNCR.dcm`` from pydicom-data
    (its PixelSpacing is 0, i.e. unknown; we assume 0.2 mm detector pixels, which makes
    the field 391 x 368 mm, plausible for a chest cassette). Per image we move the
    "patient" a little (shift, scale, rotation), may add a simulated opacity in a lower
    lung zone (the "finding", our disease label), and then apply the acquisition habits of
    one of three simulated sites:

    ====  ======================  =========  ========  ===================================
    site  setting                 view       pixel     acquisition differences
    ====  ======================  =========  ========  ===================================
    A     screening clinic        PA erect   1.60 mm   MONOCHROME2, linear curve, 240x228
    B     tertiary hospital ICU   AP supine  1.40 mm   MONOCHROME1, steeper curve, bright
                                                       collimator shutters, zero padding
                                                       frame, burned-in "L" and "AP SUPINE",
                                                       264x264
    C     emergency department    AP erect   1.80 mm   MONOCHROME2, flat curve + noise,
                                                       black side padding, burned-in "L",
                                                       larger tilt, 216x216
    ====  ======================  =========  ========  ===================================

    The prevalence of the finding differs by site (A 25 %, B 75 %, C 50 %) and so do the
    (fake) ages; within a site the finding goes preferentially to the older patients. The
    cohort is confounded on purpose. Labels live beside the images in
    ``labels.csv`` (as they would come from reports), not in the DICOM headers.
    Demographics are clearly fake: names ``SIMULATED^<id>``, no birth dates.

``ml_harmonisation``
    A tabular, seeded feature set for feature-level harmonisation: four sites, an age
    covariate, a disease label whose prevalence differs by site, eight features with a
    known additive site shift, a known multiplicative site scale and a known disease
    effect (``truth.json``).

Everything is deterministic (seeded NumPy generators, fixed UIDs and dates), so two
builds are byte-identical.
"""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from medimg._datagen import check_listing
from medimg.sources import package_file

# ----------------------------------------------------------------------------- cohort
RG1_RELPATH = "data/RG1_UNCR.dcm"
SOURCE_SPACING = 0.2  # mm, assumed (the file says 0.000)
BASE_SPACING = 0.5  # mm, working grid of the base image
SEED = 20260404
N_PER_SITE = 16
BITS = 12
MAX_VALUE = 2 ** BITS - 1
CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"
ENTROPY = "medimg cxr_cohort RG1"
STUDY_DATE = "20250101"

SITES = {
    "A": dict(institution="Simulated Screening Clinic", view="PA", position="ERECT",
              spacing=1.60, shape=(240, 228), photometric="MONOCHROME2", prevalence=0.25,
              age=(25, 65), tilt_deg=1.0, label_source="two radiologists, consensus"),
    "B": dict(institution="Simulated Tertiary Hospital ICU", view="AP", position="SUPINE",
              spacing=1.40, shape=(264, 264), photometric="MONOCHROME1", prevalence=0.75,
              age=(55, 90), tilt_deg=4.0, label_source="text mining of reports"),
    "C": dict(institution="Simulated Emergency Department", view="AP", position="ERECT",
              spacing=1.80, shape=(216, 216), photometric="MONOCHROME2", prevalence=0.50,
              age=(30, 85), tilt_deg=3.0, label_source="one resident"),
}
B_PAD = 12  # zero-padding frame of site B (pixels)
B_SHUTTER = 12  # width of site B's collimator shutters, inside the frame (pixels)
C_PAD = 10  # black padding on the left and right of site C (pixels)

# 5 x 7 bitmap glyphs for burned-in markers
_GLYPHS = {
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "I": ["11111", "00100", "00100", "00100", "00100", "00100", "11111"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    "P": ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
    "S": ["01111", "10000", "10000", "01110", "00001", "00001", "11110"],
    "U": ["10001", "10001", "10001", "10001", "10001", "10001", "01110"],
    " ": ["00000"] * 7,
}


def cohort_file_name(site: str, k: int) -> str:
    return f"site{site}_{k + 1:02d}.dcm"


def cohort_files() -> list[str]:
    return [cohort_file_name(s, k) for s in SITES for k in range(N_PER_SITE)]


@lru_cache(maxsize=1)
def _base_image() -> np.ndarray:
    """RG1 as display brightness in [0, 1] (bone bright) on a 0.5 mm grid."""
    import pydicom
    from skimage.transform import rescale

    ds = pydicom.dcmread(package_file("data_store", RG1_RELPATH))
    stored = ds.pixel_array.astype(np.float64)
    if stored.shape != (1955, 1841) or ds.PhotometricInterpretation != "MONOCHROME1":
        raise ValueError("RG1_UNCR.dcm is not the expected 1955x1841 MONOCHROME1 radiograph")
    bright = stored.max() - stored  # MONOCHROME1: high stored value = dark
    lo, hi = np.percentile(bright, [0.5, 99.5])
    bright = np.clip((bright - lo) / (hi - lo), 0, 1)
    return rescale(bright, SOURCE_SPACING / BASE_SPACING, anti_aliasing=True, order=1)


@lru_cache(maxsize=4)
def _blurred_base(spacing: float) -> np.ndarray:
    from scipy import ndimage as ndi

    return ndi.gaussian_filter(_base_image(), 0.45 * spacing / BASE_SPACING)


def _burn_text(img: np.ndarray, text: str, row: int, col: int, size: int, value: float):
    """Burn ``text`` into ``img`` (in place) with ``size``-pixel glyph dots."""
    for n, ch in enumerate(text):
        glyph = np.array([[c == "1" for c in line] for line in _GLYPHS[ch]])
        block = np.kron(glyph, np.ones((size, size), bool))
        r0, c0 = row, col + n * 6 * size
        img[r0:r0 + block.shape[0], c0:c0 + block.shape[1]][block] = value


def _subjects() -> list[dict]:
    """Per-image parameters and fake demographics, seeded."""
    rng = np.random.default_rng(SEED)
    rows = []
    for site, cfg in SITES.items():
        n_pos = int(round(cfg["prevalence"] * N_PER_SITE))
        ages = rng.integers(cfg["age"][0], cfg["age"][1] + 1, size=N_PER_SITE)
        # the finding is more common in older patients (as many diseases are): the n_pos
        # patients with the highest age + noise (SD 10 years) have it
        risk = ages + rng.normal(0, 10, N_PER_SITE)
        findings = np.zeros(N_PER_SITE, dtype=int)
        findings[np.argsort(-risk)[:n_pos]] = 1
        for k in range(N_PER_SITE):
            rows.append(dict(
                file=cohort_file_name(site, k), site=site, patient_id=f"SIM-{site}{k + 1:02d}",
                finding=int(findings[k]),
                age=int(ages[k]),
                sex=str(rng.choice(["F", "M"])),
                tilt=float(rng.uniform(-cfg["tilt_deg"], cfg["tilt_deg"])),
                scale=float(rng.uniform(0.94, 1.06)),
                shift=rng.uniform(-10, 10, size=2),  # mm (row, col)
                side=int(rng.integers(0, 2)),  # 0: image left lung, 1: image right lung
                blob=rng.uniform(-15, 15, size=2),  # mm jitter of the opacity
                noise_seed=int(rng.integers(0, 2 ** 31)),
            ))
    return rows


def _render(subject: dict) -> np.ndarray:
    """Stored pixel values (uint16, 12 bits) of one cohort image."""
    from scipy import ndimage as ndi

    cfg = SITES[subject["site"]]
    sp = cfg["spacing"]
    rows, cols = cfg["shape"]
    base = _blurred_base(sp)
    # output pixel centre (mm, relative to the image centre) -> base pixel index
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    y = (rr - (rows - 1) / 2) * sp
    x = (cc - (cols - 1) / 2) * sp
    t = np.deg2rad(subject["tilt"])
    s = subject["scale"]
    yb = (np.cos(t) * y - np.sin(t) * x) / s + subject["shift"][0]
    xb = (np.sin(t) * y + np.cos(t) * x) / s + subject["shift"][1]
    centre = (np.array(base.shape) - 1) / 2
    img = ndi.map_coordinates(base, [yb / BASE_SPACING + centre[0], xb / BASE_SPACING + centre[1]],
                              order=1, mode="nearest")
    if subject["finding"]:  # a soft opacity in a lower lung zone, moving with the anatomy
        cy = 60.0 + subject["blob"][0]  # mm below the image centre
        cx = (-80.0 if subject["side"] == 0 else 85.0) + subject["blob"][1]
        img = img + 0.12 * np.exp(-((yb - cy) ** 2 + (xb - cx) ** 2) / (2 * 28.0 ** 2))
    rng = np.random.default_rng(subject["noise_seed"])
    site = subject["site"]
    if site == "A":
        img = 0.05 + 0.9 * img
    elif site == "B":
        img = np.clip(img, 0, 1) ** 1.4 * 1.05
    else:
        img = 0.2 + 0.6 * img + rng.normal(0, 0.03, img.shape)
    img = img + rng.normal(0, 0.01, img.shape)
    if site == "B":
        img[:, :B_PAD + B_SHUTTER] = 0.93  # collimator shutters: unexposed, bright
        img[:, cols - B_PAD - B_SHUTTER:] = 0.93
        _burn_text(img, "L", B_PAD + 8, cols - B_PAD - B_SHUTTER - 26, 3, 1.0)
        _burn_text(img, "AP SUPINE", rows - B_PAD - 20, B_PAD + B_SHUTTER + 6, 2, 1.0)
    if site == "C":
        _burn_text(img, "L", 10, cols - C_PAD - 22, 3, 1.0)
    stored = np.round(np.clip(img, 0, 1) * MAX_VALUE)
    if cfg["photometric"] == "MONOCHROME1":
        stored = MAX_VALUE - stored
    if site == "B":  # the image was written into a larger matrix, padded with 0
        stored[:B_PAD, :] = stored[-B_PAD:, :] = 0
        stored[:, :B_PAD] = stored[:, -B_PAD:] = 0
    if site == "C":  # black (display) side padding
        stored[:, :C_PAD] = stored[:, -C_PAD:] = 0
    return stored.astype(np.uint16)


def _uid(*parts: str) -> str:
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[ENTROPY, *parts]))


def _cohort_dataset(subject: dict, pixels: np.ndarray):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    cfg = SITES[subject["site"]]
    pid = subject["patient_id"]
    sop = _uid("instance", pid)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR_STORAGE
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SOPClassUID = CR_STORAGE
    ds.SOPInstanceUID = sop
    ds.StudyDate = ds.ContentDate = STUDY_DATE
    ds.StudyTime = ds.ContentTime = "120000"
    ds.AccessionNumber = ""
    ds.Modality = "CR"
    ds.Manufacturer = "None (simulated by medimg)"
    ds.InstitutionName = cfg["institution"]
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "CHEST"
    ds.SeriesDescription = f"CHEST {cfg['view']} {cfg['position']}"
    ds.PatientName = f"SIMULATED^{pid}"
    ds.PatientID = pid
    ds.PatientBirthDate = ""
    ds.PatientSex = subject["sex"]
    ds.PatientAge = f"{subject['age']:03d}Y"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = cfg["view"]
    ds.StudyInstanceUID = _uid("study", pid)
    ds.SeriesInstanceUID = _uid("series", pid)
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ["L", "F"]  # rows run to the patient's left, columns to the feet
    ds.BurnedInAnnotation = "YES" if subject["site"] in "BC" else "NO"
    ds.ImageComments = ("SIMULATED: derived from pydicom-data RG1_UNCR.dcm by the medimg "
                        "course; not a real patient")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = cfg["photometric"]
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelSpacing = [cfg["spacing"], cfg["spacing"]]
    ds.ImagerPixelSpacing = [cfg["spacing"], cfg["spacing"]]
    ds.BitsAllocated = 16
    ds.BitsStored = BITS
    ds.HighBit = BITS - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    return ds


LABEL_FIELDS = ["file", "patient_id", "site", "finding", "label_source"]


def _labels_csv(subjects: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, LABEL_FIELDS, lineterminator="\n")
    writer.writeheader()
    for s in subjects:
        writer.writerow({k: s[k] for k in LABEL_FIELDS[:4]}
                        | {"label_source": SITES[s["site"]]["label_source"]})
    return buf.getvalue()


def build_cxr_cohort(out: Path) -> None:
    """Write the 48 simulated radiographs and ``labels.csv`` into the empty folder ``out``."""
    out = Path(out)
    subjects = _subjects()
    for subject in subjects:
        ds = _cohort_dataset(subject, _render(subject))
        ds.save_as(out / subject["file"], enforce_file_format=True)
    (out / "labels.csv").write_text(_labels_csv(subjects), encoding="utf-8")


def verify_cxr_cohort(path: Path) -> None:
    """Raise ``ValueError`` unless ``path`` holds exactly what ``build_cxr_cohort`` writes."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    expected = sorted(cohort_files() + ["labels.csv"])
    check_listing(path, expected)
    subjects = _subjects()
    if (path / "labels.csv").read_text(encoding="utf-8") != _labels_csv(subjects):
        raise ValueError("labels.csv differs from the generated labels")
    for subject in subjects:
        name = subject["file"]
        try:
            ds = pydicom.dcmread(path / name)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{name} is not a readable DICOM file ({exc})") from None
        cfg = SITES[subject["site"]]
        checks = {
            "PatientID": (ds.get("PatientID"), subject["patient_id"]),
            "PhotometricInterpretation": (ds.get("PhotometricInterpretation"),
                                          cfg["photometric"]),
            "Rows": (ds.get("Rows"), cfg["shape"][0]),
            "Columns": (ds.get("Columns"), cfg["shape"][1]),
            "PixelSpacing": ([float(v) for v in ds.get("PixelSpacing", [])],
                             [cfg["spacing"]] * 2),
            "BitsStored": (ds.get("BitsStored"), BITS),
        }
        for tag, (got, want) in checks.items():
            if got != want:
                raise ValueError(f"{name}: {tag} is {got!r}, expected {want!r}")
        raw = ds.get("PixelData")
        if raw != _render(subject).tobytes():
            raise ValueError(f"{name}: pixel data differ from the generated image")


# ----------------------------------------------------------------------------- tabular
HARM_SEED = 20260405
HARM_SITES = ["S1", "S2", "S3", "S4"]
HARM_N = 250  # subjects per site
HARM_PREVALENCE = [0.1, 0.3, 0.7, 0.9]
HARM_AGE_MEAN = [48.0, 55.0, 62.0, 68.0]
N_FEATURES = 8
DISEASE_EFFECT = [2.0, 1.5, -1.2, 1.0, 0.0, 0.0, 0.0, 0.0]  # in units of the noise SD
AGE_EFFECT = [0.3, 0.0, 0.2, -0.25, 0.15, 0.0, 0.1, 0.0]  # per decade
FEATURES_CSV = "features.csv"
TRUTH_JSON = "truth.json"


def _harmonisation_tables():
    rng = np.random.default_rng(HARM_SEED)
    shift = rng.normal(0.0, 1.2, size=(len(HARM_SITES), N_FEATURES))
    shift -= shift.mean(axis=0)
    scale = rng.uniform(0.6, 1.6, size=(len(HARM_SITES), N_FEATURES))
    rows = []
    for s, site in enumerate(HARM_SITES):
        for k in range(HARM_N):
            disease = int(rng.random() < HARM_PREVALENCE[s])
            age = float(np.clip(rng.normal(HARM_AGE_MEAN[s], 9.0), 20, 95))
            noise = rng.normal(0.0, 1.0, N_FEATURES)
            feats = (10.0 + np.array(AGE_EFFECT) * (age - 60.0) / 10.0
                     + np.array(DISEASE_EFFECT) * disease + shift[s] + scale[s] * noise)
            rows.append([f"{site}-{k + 1:03d}", site, round(age, 1), disease]
                        + [round(float(v), 4) for v in feats])
    header = ["subject", "site", "age", "disease"] + [f"f{j + 1}" for j in range(N_FEATURES)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    truth = {
        "note": ("simulated by medimg/_datagen/ml.py: feature = 10 + age_effect*(age-60)/10 "
                 "+ disease_effect*disease + site_shift + site_scale*N(0,1)"),
        "seed": HARM_SEED,
        "disease_effect": DISEASE_EFFECT,
        "age_effect_per_decade": AGE_EFFECT,
        "site_shift": {site: [round(float(v), 4) for v in shift[s]]
                       for s, site in enumerate(HARM_SITES)},
        "site_scale": {site: [round(float(v), 4) for v in scale[s]]
                       for s, site in enumerate(HARM_SITES)},
        "prevalence": dict(zip(HARM_SITES, HARM_PREVALENCE)),
    }
    return buf.getvalue(), json.dumps(truth, indent=1) + "\n"


def build_ml_harmonisation(out: Path) -> None:
    """Write ``features.csv`` and ``truth.json`` into the empty folder ``out``."""
    out = Path(out)
    table, truth = _harmonisation_tables()
    (out / FEATURES_CSV).write_text(table, encoding="utf-8")
    (out / TRUTH_JSON).write_text(truth, encoding="utf-8")


def verify_ml_harmonisation(path: Path) -> None:
    """Raise ``ValueError`` unless ``path`` holds the generated table and its truth."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a directory")
    names = sorted(p.name for p in path.iterdir())
    if names != sorted([FEATURES_CSV, TRUTH_JSON]):
        raise ValueError(f"expected {FEATURES_CSV} and {TRUTH_JSON}, found {names}")
    table, truth = _harmonisation_tables()
    got = (path / FEATURES_CSV).read_text(encoding="utf-8")
    lines = got.splitlines()
    if len(lines) != 1 + HARM_N * len(HARM_SITES):
        raise ValueError(f"{FEATURES_CSV} has {len(lines) - 1} rows, expected "
                         f"{HARM_N * len(HARM_SITES)}")
    if got != table:
        raise ValueError(f"{FEATURES_CSV} differs from the generated table")
    if (path / TRUTH_JSON).read_text(encoding="utf-8") != truth:
        raise ValueError(f"{TRUTH_JSON} differs from the generated truth")
