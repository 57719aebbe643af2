"""Build and verify the DICOM MR series used in episode 02 (``mr_dicom_series``).

The MNI ICBM152 2009 T1 template (shipped by nilearn as a RAS NIfTI, 1 mm voxels) is
written as a single-series DICOM MR dataset, one file per axial slice, the way a
scanner would export a 3-D T1: every slice shares the study, series and frame of
reference UIDs and carries its own position in DICOM patient coordinates (LPS).

Geometry
    NIfTI (nibabel) world coordinates are RAS+ (x to the Right, y Anterior, z
    Superior); DICOM patient coordinates are LPS+ (x to the patient's Left, y
    Posterior, z Superior). A point ``(x, y, z)`` in RAS is ``(-x, -y, z)`` in LPS.
    Each slice is stored like a standard axial scanner image,
    ``ImageOrientationPatient = [1, 0, 0, 0, 1, 0]``: moving along a row (to the next
    column) goes to the patient's left, moving down a column (to the next row) goes
    posterior. So the first pixel of a slice is the voxel at the patient's right,
    anterior corner, and the image displays the usual radiological way.

Intensities
    The template is uint8 (0..255). Stored pixels are uint16 holding
    ``template * 16`` (12 bits used) with ``RescaleSlope = 0.0625`` and
    ``RescaleIntercept = 0``, so ``stored * slope + intercept`` gives back the template
    values exactly (0.0625 is exact in binary floating point).

Everything is deterministic: UIDs come from ``generate_uid(entropy_srcs=...)`` and the
dates are fixed, so two builds are byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medimg._datagen import check_listing
from medimg.sources import package_file

MNI_T1_RELPATH = "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
TEMPLATE_SHAPE = (197, 233, 189)  # NIfTI voxel axes i, j, k (RAS, 1 mm)
N_SLICES = TEMPLATE_SHAPE[2]
SCALE = 16  # stored value = template value * SCALE
RESCALE_SLOPE = 1.0 / SCALE
IOP = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
ENTROPY = "medimg mr_dicom_series MNI152 2009 T1"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
STUDY_DATE = "20090101"  # fixed, arbitrary: the template was published in 2009
STUDY_TIME = "120000"


def slice_file_name(k: int) -> str:
    """File name of axial slice ``k`` (0-based, inferior to superior)."""
    return f"MR{k + 1:04d}.dcm"


def _load_template():
    import nibabel as nib

    img = nib.load(package_file("nilearn", MNI_T1_RELPATH))
    data = np.asanyarray(img.dataobj)
    if data.shape != TEMPLATE_SHAPE or data.dtype != np.uint8:
        raise ValueError(f"unexpected MNI T1 template: {data.shape} {data.dtype}")
    return data, img.affine


def _uids():
    from pydicom.uid import generate_uid

    def uid(*parts: str) -> str:
        return str(generate_uid(entropy_srcs=[ENTROPY, *parts]))

    return {
        "study": uid("study"),
        "series": uid("series"),
        "frame": uid("frame of reference"),
        "sop": [uid("instance", str(k + 1)) for k in range(N_SLICES)],
    }


def _slice_pixels(data: np.ndarray, k: int) -> np.ndarray:
    """Stored pixel array (rows, columns) of axial slice ``k``.

    Row r, column c is NIfTI voxel (i, j) = (ni-1-c, nj-1-r): columns run right to
    left in RAS i (that is +x in LPS), rows run anterior to posterior (+y in LPS).
    """
    return np.ascontiguousarray(data[::-1, ::-1, k].T).astype(np.uint16) * SCALE


def _geometry(affine: np.ndarray, k: int):
    """ImagePositionPatient (LPS, mm) of the first pixel of slice ``k``."""
    ni, nj = TEMPLATE_SHAPE[:2]
    ras = affine @ np.array([ni - 1, nj - 1, k, 1.0])
    return [float(-ras[0]), float(-ras[1]), float(ras[2])]


def _check_affine(affine: np.ndarray) -> None:
    expected = np.array([[1, 0, 0, -98], [0, 1, 0, -134], [0, 0, 1, -72], [0, 0, 0, 1]],
                        dtype=float)
    if not np.allclose(affine, expected):
        raise ValueError("MNI T1 template affine is not the expected 1 mm RAS grid")


def build_mr_dicom_series(out: Path) -> None:
    """Write the MNI T1 template as 189 axial DICOM MR files into the empty folder ``out``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    out = Path(out)
    data, affine = _load_template()
    _check_affine(affine)
    uids = _uids()
    rows, cols = TEMPLATE_SHAPE[1], TEMPLATE_SHAPE[0]
    for k in range(N_SLICES):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MR_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = uids["sop"][k]
        meta.TransferSyntaxUID = ExplicitVRLittleEndian

        ds = Dataset()
        ds.file_meta = meta
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
        ds.SOPClassUID = MR_IMAGE_STORAGE
        ds.SOPInstanceUID = uids["sop"][k]
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = STUDY_DATE
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = STUDY_TIME
        ds.AccessionNumber = ""
        ds.Modality = "MR"
        ds.Manufacturer = "None (derived from a template)"
        ds.ReferringPhysicianName = ""
        ds.StudyDescription = "Course example: brain template"
        ds.SeriesDescription = "T1w MNI152 2009a template"
        ds.PatientName = "Template^MNI152"
        ds.PatientID = "MNI152"
        ds.PatientBirthDate = ""
        ds.PatientSex = "O"
        ds.BodyPartExamined = "BRAIN"
        ds.PatientPosition = "HFS"  # head first, supine
        ds.ScanningSequence = "RM"  # research mode: a template, not one acquisition
        ds.SequenceVariant = "NONE"
        ds.ScanOptions = ""
        ds.MRAcquisitionType = "3D"
        ds.RepetitionTime = ""
        ds.EchoTime = ""
        ds.EchoTrainLength = ""
        ds.SliceThickness = 1.0
        ds.SpacingBetweenSlices = 1.0
        ds.StudyInstanceUID = uids["study"]
        ds.SeriesInstanceUID = uids["series"]
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.AcquisitionNumber = 1
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = _geometry(affine, k)
        ds.ImageOrientationPatient = IOP
        ds.FrameOfReferenceUID = uids["frame"]
        ds.PositionReferenceIndicator = ""
        ds.SliceLocation = ds.ImagePositionPatient[2]
        ds.ImageComments = (f"stored = template x {SCALE}; "
                            f"template = stored x {RESCALE_SLOPE} (RescaleSlope)")
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = cols
        ds.PixelSpacing = [1.0, 1.0]  # row spacing, column spacing (mm)
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = 0
        ds.RescaleSlope = RESCALE_SLOPE
        ds.RescaleType = "US"
        ds.WindowCenter = 128  # in rescaled units (after RescaleSlope)
        ds.WindowWidth = 256
        ds.PixelData = _slice_pixels(data, k).tobytes()
        ds.save_as(out / slice_file_name(k), enforce_file_format=True)


def verify_mr_dicom_series(path: Path) -> None:
    """Raise ``ValueError`` unless ``path`` holds exactly the series ``build_…`` writes."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import ExplicitVRLittleEndian

    path = Path(path)
    expected_names = [slice_file_name(k) for k in range(N_SLICES)]
    check_listing(path, expected_names)
    data, affine = _load_template()
    uids = _uids()
    rows, cols = TEMPLATE_SHAPE[1], TEMPLATE_SHAPE[0]
    for k, name in enumerate(expected_names):
        try:
            ds = pydicom.dcmread(path / name)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
            raise ValueError(f"{name} is not a readable DICOM file ({exc})") from None
        checks = {
            "TransferSyntaxUID": (ds.file_meta.get("TransferSyntaxUID"), ExplicitVRLittleEndian),
            "SOPClassUID": (ds.get("SOPClassUID"), MR_IMAGE_STORAGE),
            "Modality": (ds.get("Modality"), "MR"),
            "StudyInstanceUID": (ds.get("StudyInstanceUID"), uids["study"]),
            "SeriesInstanceUID": (ds.get("SeriesInstanceUID"), uids["series"]),
            "FrameOfReferenceUID": (ds.get("FrameOfReferenceUID"), uids["frame"]),
            "SOPInstanceUID": (ds.get("SOPInstanceUID"), uids["sop"][k]),
            "InstanceNumber": (ds.get("InstanceNumber"), k + 1),
            "Rows": (ds.get("Rows"), rows),
            "Columns": (ds.get("Columns"), cols),
            "BitsAllocated": (ds.get("BitsAllocated"), 16),
            "PixelRepresentation": (ds.get("PixelRepresentation"), 0),
            "ImageOrientationPatient": (
                [float(v) for v in ds.get("ImageOrientationPatient", [])], IOP),
            "ImagePositionPatient": (
                [float(v) for v in ds.get("ImagePositionPatient", [])], _geometry(affine, k)),
            "PixelSpacing": ([float(v) for v in ds.get("PixelSpacing", [])], [1.0, 1.0]),
            "SliceThickness": (float(ds.get("SliceThickness", 0)), 1.0),
            "RescaleSlope": (float(ds.get("RescaleSlope", 1)), RESCALE_SLOPE),
            "RescaleIntercept": (float(ds.get("RescaleIntercept", 1)), 0.0),
        }
        for tag, (got, want) in checks.items():
            if got != want:
                raise ValueError(f"{name}: {tag} is {got!r}, expected {want!r}")
        raw = ds.get("PixelData")
        if raw is None or len(raw) != rows * cols * 2:
            got = 0 if raw is None else len(raw)
            raise ValueError(f"{name}: PixelData has {got} bytes, expected {rows * cols * 2}")
        if raw != _slice_pixels(data, k).tobytes():
            raise ValueError(f"{name}: pixel values differ from the MNI T1 template x {SCALE}")
