"""Build and verify the simulated brain FDG-PET series of episode 01 (``pet_fdg_sim``).

No real PET volume ships inside a pip package (nibabel's ``tinypet.v`` is a 10 x 10 x 3
crop with unphysical values), so this module **simulates** one, clearly labelled as such
in every file, from the MNI ICBM152 2009a grey- and white-matter probability maps that
nilearn ships:

Activity model (what an FDG scan about 45 min after injection roughly looks like)
    activity = SUV_GM * gm + SUV_WM * wm + SUV_CSF * csf   (as SUV, then Bq/mL)
    with ``csf`` = the rest of the template's brain mask. A 20 mm sphere in the
    patient's **left** temporal lobe has its grey-matter uptake lowered to 60 %
    (a made-up hypometabolic focus), so left and right differ and orientation matters.
    The map is blurred to the resolution of a PET scanner (6 mm FWHM Gaussian), sampled
    on a 2 mm grid and given seeded noise whose variance grows with the activity
    (count statistics).

Units and header
    Values are activity concentration in Bq/mL (``Units = BQML``), decay-corrected to
    the scan start (``DecayCorrection = START``). The header records what an SUV needs:
    ``PatientWeight``, the injected dose and its time (``RadiopharmaceuticalInformation
    Sequence``), the half-life of F-18 and the series time. Each slice is stored as
    int16 with **its own** ``RescaleSlope``, as PET scanners commonly do.

Geometry
    Classic PET Image Storage, one file per axial slice, in the same frame of reference
    as the ``mr_dicom_series`` (the T1 template written as DICOM): PET voxel centres lie
    on every second MR voxel centre (2 mm), with the same LPS conventions
    (``ImageOrientationPatient = [1, 0, 0, 0, 1, 0]``: columns go to the patient's left,
    rows go posterior). So the two fuse by their physical positions.

Deterministic: fixed seed, UIDs from ``generate_uid(entropy_srcs=...)``, fixed dates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medimg._datagen import check_listing
from medimg.sources import package_file

GM_RELPATH = "datasets/data/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz"
WM_RELPATH = "datasets/data/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"
T1_RELPATH = "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
TEMPLATE_SHAPE = (197, 233, 189)          # RAS voxel axes i, j, k at 1 mm
STEP = 2                                  # PET voxel = 2 template voxels
PET_SHAPE = tuple((n - 1) // STEP + 1 for n in TEMPLATE_SHAPE)   # (99, 117, 95)
N_SLICES = PET_SHAPE[2]
SPACING_MM = float(STEP)

SUV_GM, SUV_WM, SUV_CSF = 8.0, 2.8, 0.4
FOCUS_CENTRE_RAS = (-50.0, -20.0, -18.0)  # mm; x < 0 is the patient's left in RAS
FOCUS_RADIUS_MM = 20.0
FOCUS_FACTOR = 0.6
FWHM_MM = 6.0
NOISE_AT_GM = 0.05                        # relative noise sd at grey-matter uptake
SEED = 20090101

# What the header states (used for SUV): a typical adult brain FDG study.
PATIENT_WEIGHT_KG = 70.0
INJECTED_DOSE_BQ = 200e6                  # 200 MBq of F-18 FDG
HALF_LIFE_S = 6586.2                      # F-18: 109.77 min
INJECTION_TIME = "094500.00"
SCAN_TIME = "103000.00"                   # 45 min after injection
FRAME_DURATION_MS = 600000                # a 10 min static frame

PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"
ENTROPY = "medimg pet_fdg_sim MNI152 2009a"
STUDY_DATE = "20090101"


def slice_file_name(k: int) -> str:
    """File name of PET slice ``k`` (0-based, inferior to superior)."""
    return f"PT{k + 1:04d}.dcm"


def _seconds(hhmmss: str) -> float:
    return int(hhmmss[:2]) * 3600 + int(hhmmss[2:4]) * 60 + float(hhmmss[4:])


def bq_per_ml_per_suv() -> float:
    """Activity concentration (Bq/mL) of SUV 1 at the scan start, from the header values."""
    elapsed = _seconds(SCAN_TIME) - _seconds(INJECTION_TIME)
    dose_at_scan = INJECTED_DOSE_BQ * 2.0 ** (-elapsed / HALF_LIFE_S)
    return dose_at_scan / (PATIENT_WEIGHT_KG * 1000.0)   # 1 g of tissue ~ 1 mL


def _load(relpath: str) -> np.ndarray:
    import nibabel as nib

    img = nib.load(package_file("nilearn", relpath))
    expected = np.array([[1, 0, 0, -98], [0, 1, 0, -134], [0, 0, 1, -72], [0, 0, 0, 1]], float)
    if img.shape != TEMPLATE_SHAPE or not np.allclose(img.affine, expected):
        raise ValueError(f"unexpected MNI template file {relpath}: {img.shape}")
    return np.asanyarray(img.dataobj)


def simulate_activity() -> np.ndarray:
    """Simulated activity concentration (Bq/mL), float32, on the 2 mm grid (RAS i, j, k)."""
    from scipy import ndimage as ndi

    gm = _load(GM_RELPATH).astype(np.float32) / 255
    wm = _load(WM_RELPATH).astype(np.float32) / 255
    brain = _load(T1_RELPATH) > 0
    csf = np.clip(brain - gm - wm, 0, 1)
    i, j, k = np.ogrid[:TEMPLATE_SHAPE[0], :TEMPLATE_SHAPE[1], :TEMPLATE_SHAPE[2]]
    x, y, z = i - 98.0, j - 134.0, k - 72.0                    # RAS mm (1 mm grid)
    cx, cy, cz = FOCUS_CENTRE_RAS
    focus = (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= FOCUS_RADIUS_MM ** 2
    gm_uptake = np.where(focus, SUV_GM * FOCUS_FACTOR, SUV_GM).astype(np.float32)
    suv = gm_uptake * gm + SUV_WM * wm + SUV_CSF * csf
    sigma = FWHM_MM / (2 * np.sqrt(2 * np.log(2)))            # mm = voxels here
    suv = ndi.gaussian_filter(suv, sigma, mode="constant")[::STEP, ::STEP, ::STEP]
    rng = np.random.default_rng(SEED)
    noise_sd = NOISE_AT_GM * np.sqrt(np.maximum(suv, 0) * SUV_GM)
    suv = np.maximum(suv + rng.normal(size=suv.shape).astype(np.float32) * noise_sd, 0)
    return (suv * bq_per_ml_per_suv()).astype(np.float32)


def _uids():
    from pydicom.uid import generate_uid

    from medimg._datagen import mri

    def uid(*parts: str) -> str:
        return str(generate_uid(entropy_srcs=[ENTROPY, *parts]))

    return {"study": mri._uids()["study"], "frame": mri._uids()["frame"],
            "series": uid("series"), "sop": [uid("instance", str(k + 1)) for k in range(N_SLICES)]}


def _slice_stored(activity: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """(stored int16 slice, RescaleSlope) of slice ``k``; rows go posterior, columns left."""
    plane = activity[::-1, ::-1, k].T                          # rows: A->P, columns: R->L
    slope = max(float(plane.max()), 1.0) / 32767
    slope = float(f"{slope:.6g}")                              # what a DS value can hold
    stored = np.round(plane / slope).clip(0, 32767).astype(np.int16)
    return np.ascontiguousarray(stored), slope


def _position(k: int) -> list[float]:
    """ImagePositionPatient (LPS mm) of the first pixel of slice ``k``: the MR corner."""
    return [-98.0, -98.0, -72.0 + STEP * k]


def build_pet_fdg_sim(out: Path) -> None:
    """Write the simulated FDG-PET as one DICOM PET file per axial slice into ``out``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian

    out = Path(out)
    activity = simulate_activity()
    uids = _uids()
    for k in range(N_SLICES):
        stored, slope = _slice_stored(activity, k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = PET_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = uids["sop"][k]
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.SOPClassUID = PET_IMAGE_STORAGE
        ds.SOPInstanceUID = uids["sop"][k]
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = STUDY_DATE
        ds.StudyTime = INJECTION_TIME
        ds.SeriesTime = ds.AcquisitionTime = SCAN_TIME
        ds.Modality = "PT"
        ds.Manufacturer = "None (simulated by this course)"
        ds.StudyDescription = "Course example: brain template"
        ds.SeriesDescription = "SIMULATED FDG PET from MNI152 tissue maps"
        ds.ImageComments = ("Simulated: not a measurement. Uptake GM/WM/CSF SUV "
                            f"{SUV_GM}/{SUV_WM}/{SUV_CSF}, left temporal focus at "
                            f"{int(FOCUS_FACTOR * 100)} %, {FWHM_MM:g} mm FWHM, seeded noise")
        ds.PatientName = "Template^MNI152"
        ds.PatientID = "MNI152"
        ds.PatientSex = "O"
        ds.PatientWeight = PATIENT_WEIGHT_KG
        ds.PatientPosition = "HFS"
        ds.BodyPartExamined = "BRAIN"
        ds.SeriesType = ["STATIC", "IMAGE"]
        ds.Units = "BQML"
        ds.DecayCorrection = "START"
        ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "NORM"]
        ds.ActualFrameDuration = FRAME_DURATION_MS
        info = Dataset()
        info.Radiopharmaceutical = "Fluorodeoxyglucose"
        info.RadiopharmaceuticalStartTime = INJECTION_TIME
        info.RadionuclideTotalDose = INJECTED_DOSE_BQ
        info.RadionuclideHalfLife = HALF_LIFE_S
        info.RadionuclidePositronFraction = 0.9686
        ds.RadiopharmaceuticalInformationSequence = Sequence([info])
        ds.StudyInstanceUID = uids["study"]
        ds.SeriesInstanceUID = uids["series"]
        ds.FrameOfReferenceUID = uids["frame"]
        ds.PositionReferenceIndicator = ""
        ds.SeriesNumber = 2
        ds.InstanceNumber = k + 1
        ds.ImageIndex = k + 1
        ds.NumberOfSlices = N_SLICES
        ds.ImagePositionPatient = _position(k)
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.SliceLocation = ds.ImagePositionPatient[2]
        ds.SliceThickness = SPACING_MM
        ds.PixelSpacing = [SPACING_MM, SPACING_MM]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = stored.shape
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope = slope
        ds.RescaleIntercept = 0
        ds.RescaleType = "BQML"
        ds.PixelData = stored.tobytes()
        ds.save_as(out / slice_file_name(k), enforce_file_format=True)


def verify_pet_fdg_sim(path: Path) -> None:
    """Raise ``ValueError`` unless ``path`` holds the complete, consistent PET series."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    expected = [slice_file_name(k) for k in range(N_SLICES)]
    check_listing(path, expected)
    uids = _uids()
    rows, cols = PET_SHAPE[1], PET_SHAPE[0]
    for k, name in enumerate(expected):
        try:
            ds = pydicom.dcmread(path / name)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{name} is not a readable DICOM file ({exc})") from None
        checks = {
            "SOPClassUID": (ds.get("SOPClassUID"), PET_IMAGE_STORAGE),
            "Units": (ds.get("Units"), "BQML"),
            "SeriesInstanceUID": (ds.get("SeriesInstanceUID"), uids["series"]),
            "FrameOfReferenceUID": (ds.get("FrameOfReferenceUID"), uids["frame"]),
            "SOPInstanceUID": (ds.get("SOPInstanceUID"), uids["sop"][k]),
            "Rows": (ds.get("Rows"), rows),
            "Columns": (ds.get("Columns"), cols),
            "ImagePositionPatient": ([float(v) for v in ds.get("ImagePositionPatient", [])],
                                     _position(k)),
            "PatientWeight": (float(ds.get("PatientWeight", 0)), PATIENT_WEIGHT_KG),
        }
        for tag, (got, want) in checks.items():
            if got != want:
                raise ValueError(f"{name}: {tag} is {got!r}, expected {want!r}")
        raw = ds.get("PixelData")
        if raw is None or len(raw) != rows * cols * 2:
            raise ValueError(f"{name}: PixelData has {0 if raw is None else len(raw)} bytes, "
                             f"expected {rows * cols * 2}")
        slope = float(ds.get("RescaleSlope", 0))
        if not slope > 0:
            raise ValueError(f"{name}: RescaleSlope must be positive, got {slope}")
        stored = np.frombuffer(raw, "<i2")
        if stored.min() < 0:
            raise ValueError(f"{name}: negative activity stored")
        if stored.max() * slope > 40 * bq_per_ml_per_suv():
            raise ValueError(f"{name}: activity above SUV 40, not this simulation")
