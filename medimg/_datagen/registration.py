"""Derived data for episode 03 (registration and segmentation).

Every dataset here is computed from the MNI ICBM152 2009 template that ships with
nilearn (T1 image and grey/white-matter probability maps, 197 x 233 x 189 voxels of
1 mm).  SimpleITK reads those NIfTI files in LPS physical coordinates, and so does
everything below: all points, centres and translations are LPS millimetres.

Datasets (builder / verifier pairs, see ``fetch_data.py``):

``ct_like_head``
    A CT-like image of the template head in Hounsfield-like units (int16), made from
    the tissue maps plus a simple skull shell, on a different grid (0.9 x 0.9 x 2.5 mm,
    identity direction) and moved by a known rigid transform, with seeded noise.
``ct_like_transform``
    That known rigid transform (``Euler3DTransform``), written by ``sitk.WriteTransform``.
    Direction convention: it maps a physical point of the CT-like image to the
    physical point of the MNI template that shows the same anatomy,
    ``x_mni = T(x_ct)``.  This is the direction SimpleITK's ``ResampleImageFilter`` and
    ``ImageRegistrationMethod`` use (fixed = CT-like image, moving = MNI T1).
``t2_like_head``
    A simulated T2-weighted-like image (CSF bright) on the MNI grid, uint8.
``ventricle_reference``
    A reference mask of the lateral ventricles on the MNI grid (uint8, 0/1), made from
    the tissue probability maps (not from T1 intensities): CSF probability
    ``1 - p_gm - p_wm`` >= 2/3 deep inside the brain, connected components, the large
    components lying 5-30 mm either side of the midline are kept, holes are filled.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medimg import sources

# --- sources --------------------------------------------------------------------------
_NILEARN_DIR = "datasets/data/"
MNI_T1_FILE = _NILEARN_DIR + "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
MNI_GM_FILE = _NILEARN_DIR + "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz"
MNI_WM_FILE = _NILEARN_DIR + "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"
MNI_SIZE = (197, 233, 189)

# --- the known rigid transform (CT-like physical point -> MNI physical point, LPS mm) --
TRUE_ROTATION_DEG = (4.0, -3.0, 8.0)  # Euler angles about x, y, z (SimpleITK order)
TRUE_TRANSLATION_MM = (7.0, -8.0, 6.0)  # |t| = 12.2 mm
TRUE_CENTER_MM = (0.0, 22.0, 10.0)  # rotation centre: near the brain's centroid

# --- the CT-like image's own grid --------------------------------------------------------
CT_SPACING = (0.9, 0.9, 2.5)  # mm: fine in-plane, thick axial slices, like many head CTs
CT_SIZE = (236, 256, 76)
CT_ORIGIN = (-111.5, -84.5, -87.5)  # LPS mm of the first voxel's centre
CT_DIRECTION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

# Hounsfield-like values (HU) of the simulated tissues.
HU_AIR = -1000.0
HU_CSF = 8.0
HU_GM = 40.0
HU_WM = 28.0
HU_BONE = 900.0
HU_SCALP = 30.0
# Shells outside the brain mask, by distance from it (mm): CSF/meninges, bone, scalp.
SHELL_CSF_MM = 2.0
SHELL_BONE_MM = 8.0
SHELL_SCALP_MM = 13.0
CT_NOISE_HU = 5.0  # standard deviation of the added Gaussian noise
CT_SEED = 20240603

# T2-like intensities (arbitrary units, uint8) and noise.
T2_CSF = 230.0
T2_GM = 140.0
T2_WM = 95.0
T2_NOISE = 4.0
T2_SEED = 20240604

# Ventricle reference procedure.
VENT_CSF_MIN = 170  # p_csf >= 170/255 (about 2/3)
VENT_ERODE_MM = 10  # keep away from the cortical CSF rim
VENT_MIN_VOXELS = 2000
VENT_MIDLINE_MM = (5.0, 30.0)  # |x| of a kept component's centroid


# --- helpers -----------------------------------------------------------------------------
class _OneThread:
    """Run SimpleITK filters on one thread (bit-identical results), then restore."""

    def __enter__(self):
        self._saved = sitk.ProcessObject_GetGlobalDefaultNumberOfThreads()
        sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(1)

    def __exit__(self, *exc):
        sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(self._saved)
        return False


def _read_mni(relpath: str) -> sitk.Image:
    return sitk.ReadImage(str(sources.package_file("nilearn", relpath)))


def true_transform() -> sitk.Euler3DTransform:
    """The known rigid transform: maps CT-like physical points to MNI physical points."""
    tx = sitk.Euler3DTransform()
    tx.SetCenter(TRUE_CENTER_MM)
    tx.SetRotation(*(math.radians(a) for a in TRUE_ROTATION_DEG))
    tx.SetTranslation(TRUE_TRANSLATION_MM)
    return tx


def ct_reference_grid() -> sitk.Image:
    """An empty image with the CT-like grid (for resampling onto it)."""
    ref = sitk.Image(CT_SIZE, sitk.sitkInt16)
    ref.SetSpacing(CT_SPACING)
    ref.SetOrigin(CT_ORIGIN)
    ref.SetDirection(CT_DIRECTION)
    return ref


def _tissue_probabilities():
    """Brain mask (uint8) and p_gm, p_wm, p_csf (float32 images in [0, 1]) on the MNI grid."""
    t1 = _read_mni(MNI_T1_FILE)
    brain = sitk.BinaryFillhole(t1 > 0)
    gm = sitk.Cast(_read_mni(MNI_GM_FILE), sitk.sitkFloat32) * (1.0 / 255.0)
    wm = sitk.Cast(_read_mni(MNI_WM_FILE), sitk.sitkFloat32) * (1.0 / 255.0)
    csf = sitk.Clamp(1.0 - gm - wm, lowerBound=0.0, upperBound=1.0)
    inside = sitk.Cast(brain, sitk.sitkFloat32)
    return brain, gm * inside, wm * inside, csf * inside


def hu_on_mni_grid() -> sitk.Image:
    """The noiseless CT-like head (float32 HU) on the MNI grid, before it is moved."""
    brain, gm, wm, csf = _tissue_probabilities()
    hu = HU_GM * gm + HU_WM * wm + HU_CSF * csf
    # Distance outside the brain mask (mm, 0 inside) decides the shells around it.
    dist = sitk.SignedMaurerDistanceMap(brain, insideIsPositive=False,
                                        squaredDistance=False, useImageSpacing=True)
    d = sitk.GetArrayFromImage(dist)
    h = sitk.GetArrayFromImage(hu)
    out = np.full(h.shape, HU_AIR, dtype=np.float32)
    out[d <= 0] = h[d <= 0]
    out[(d > 0) & (d <= SHELL_CSF_MM)] = HU_CSF
    out[(d > SHELL_CSF_MM) & (d <= SHELL_BONE_MM)] = HU_BONE
    out[(d > SHELL_BONE_MM) & (d <= SHELL_SCALP_MM)] = HU_SCALP
    img = sitk.GetImageFromArray(out)
    img.CopyInformation(brain)
    # A little blur: the edges of a real CT are never perfectly sharp.
    return sitk.SmoothingRecursiveGaussian(img, 0.6)


def _read_checked(path: Path, what: str) -> sitk.Image:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what}: {path} is not a file")
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise ValueError(f"{what}: {path} cannot be read ({str(exc).splitlines()[0]})") from None


def _check_geometry(img, what, size, spacing, origin, direction, pixel_id):
    if img.GetSize() != tuple(size):
        raise ValueError(f"{what}: size {img.GetSize()} != {tuple(size)}")
    if img.GetPixelID() != pixel_id:
        raise ValueError(f"{what}: pixel type {img.GetPixelIDTypeAsString()} is unexpected")
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError(f"{what}: expected one component per pixel")
    for name, got, want in (("spacing", img.GetSpacing(), spacing),
                            ("origin", img.GetOrigin(), origin),
                            ("direction", img.GetDirection(), direction)):
        if not np.allclose(got, want, atol=1e-4):
            raise ValueError(f"{what}: {name} {tuple(round(v, 4) for v in got)} != {tuple(want)}")


_MNI_ORIGIN = (98.0, 134.0, -72.0)
_MNI_DIRECTION = (-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0)


# --- ct_like_head ------------------------------------------------------------------------
def build_ct_like_head(out: Path) -> None:
    """CT-like head (int16 HU) on its own grid, moved by ``true_transform()``, seeded noise."""
    with _OneThread():
        hu = hu_on_mni_grid()
        # Resampling pulls values: CT voxel at x_ct gets the MNI-grid value at T(x_ct).
        moved = sitk.Resample(hu, ct_reference_grid(), true_transform(),
                              sitk.sitkLinear, HU_AIR, sitk.sitkFloat32)
    arr = sitk.GetArrayFromImage(moved)
    rng = np.random.default_rng(CT_SEED)
    arr = arr + rng.normal(0.0, CT_NOISE_HU, size=arr.shape).astype(np.float32)
    arr = np.clip(np.rint(arr), -1024, 3071).astype(np.int16)
    img = sitk.GetImageFromArray(arr)
    img.CopyInformation(moved)
    sitk.WriteImage(img, str(out), useCompression=True)


def verify_ct_like_head(path: Path) -> None:
    img = _read_checked(path, "ct_like_head")
    _check_geometry(img, "ct_like_head", CT_SIZE, CT_SPACING, CT_ORIGIN, CT_DIRECTION,
                    sitk.sitkInt16)
    a = sitk.GetArrayViewFromImage(img)
    air = float(np.mean(a < -900))
    bone = float(np.mean(a > 600))
    brain = a[(a > 0) & (a < 60)]
    if not 0.55 < air < 0.85:
        raise ValueError(f"ct_like_head: air fraction {air:.3f} is implausible")
    if not 0.02 < bone < 0.08:
        raise ValueError(f"ct_like_head: bone fraction {bone:.3f} is implausible")
    if brain.size < 500_000 or not 25 < float(np.median(brain)) < 40:
        raise ValueError("ct_like_head: brain tissue values are not as built")


# --- ct_like_transform -------------------------------------------------------------------
def build_ct_like_transform(out: Path) -> None:
    """The known rigid transform (CT-like point -> MNI point) as a SimpleITK .tfm file."""
    sitk.WriteTransform(true_transform(), str(out))


def verify_ct_like_transform(path: Path) -> None:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"ct_like_transform: {path} is not a file")
    try:
        tx = sitk.ReadTransform(str(path))
    except RuntimeError as exc:
        raise ValueError(f"ct_like_transform: cannot read {path} "
                         f"({str(exc).splitlines()[0]})") from None
    if tx.GetName() != "Euler3DTransform":
        raise ValueError(f"ct_like_transform: {tx.GetName()} is not an Euler3DTransform")
    tx = sitk.Euler3DTransform(tx)
    want = true_transform()
    if not np.allclose(tx.GetParameters(), want.GetParameters(), atol=1e-9):
        raise ValueError("ct_like_transform: parameters differ from the known transform")
    if not np.allclose(tx.GetFixedParameters()[:3], want.GetFixedParameters()[:3], atol=1e-9):
        raise ValueError("ct_like_transform: rotation centre differs from the known one")


# --- t2_like_head ------------------------------------------------------------------------
def build_t2_like_head(out: Path) -> None:
    """Simulated T2-weighted-like image (CSF bright, GM > WM) on the MNI grid, uint8."""
    with _OneThread():
        brain, gm, wm, csf = _tissue_probabilities()
        t2 = T2_GM * gm + T2_WM * wm + T2_CSF * csf
    arr = sitk.GetArrayFromImage(t2)
    inside = sitk.GetArrayViewFromImage(brain) > 0
    rng = np.random.default_rng(T2_SEED)
    arr = arr + rng.normal(0.0, T2_NOISE, size=arr.shape).astype(np.float32)
    arr = np.where(inside, np.clip(np.rint(arr), 1, 255), 0).astype(np.uint8)
    img = sitk.GetImageFromArray(arr)
    img.CopyInformation(brain)
    sitk.WriteImage(img, str(out), useCompression=True)


def verify_t2_like_head(path: Path) -> None:
    img = _read_checked(path, "t2_like_head")
    _check_geometry(img, "t2_like_head", MNI_SIZE, (1.0, 1.0, 1.0), _MNI_ORIGIN,
                    _MNI_DIRECTION, sitk.sitkUInt8)
    a = sitk.GetArrayViewFromImage(img)
    inside = float(np.mean(a > 0))
    if not 0.20 < inside < 0.24:
        raise ValueError(f"t2_like_head: brain fraction {inside:.3f} is not as built")
    bright = float(np.mean(a > 200))
    if not 0.003 < bright < 0.03:
        raise ValueError(f"t2_like_head: CSF-bright fraction {bright:.4f} is not as built")


# --- ventricle_reference -----------------------------------------------------------------
def ventricle_reference_image() -> sitk.Image:
    """The reference lateral-ventricle mask (uint8 0/1) on the MNI grid."""
    brain, _, _, csf = _tissue_probabilities()
    csf255 = sitk.Cast(sitk.Round(csf * 255.0), sitk.sitkUInt8)
    deep = sitk.BinaryErode(brain, [VENT_ERODE_MM] * 3, sitk.sitkBall)
    candidates = sitk.And(csf255 >= VENT_CSF_MIN, deep)
    labels = sitk.ConnectedComponent(candidates, False)  # face connectivity
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(labels)
    keep = sitk.Image(labels.GetSize(), sitk.sitkUInt8)
    keep.CopyInformation(labels)
    lo, hi = VENT_MIDLINE_MM
    for lab in stats.GetLabels():
        x = abs(stats.GetCentroid(lab)[0])  # LPS x = distance from the midline
        if stats.GetNumberOfPixels(lab) >= VENT_MIN_VOXELS and lo <= x <= hi:
            keep = keep | (labels == lab)
    return sitk.BinaryFillhole(keep)


def build_ventricle_reference(out: Path) -> None:
    with _OneThread():
        mask = ventricle_reference_image()
    sitk.WriteImage(sitk.Cast(mask, sitk.sitkUInt8), str(out), useCompression=True)


def verify_ventricle_reference(path: Path) -> None:
    img = _read_checked(path, "ventricle_reference")
    _check_geometry(img, "ventricle_reference", MNI_SIZE, (1.0, 1.0, 1.0), _MNI_ORIGIN,
                    _MNI_DIRECTION, sitk.sitkUInt8)
    a = sitk.GetArrayViewFromImage(img)
    values = set(np.unique(a).tolist())
    if values != {0, 1}:
        raise ValueError(f"ventricle_reference: values {sorted(values)} are not 0/1")
    n = int(a.sum())
    if not 12_000 <= n <= 17_000:
        raise ValueError(f"ventricle_reference: {n} voxels is not as built")
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(sitk.ConnectedComponent(img))
    if stats.GetNumberOfLabels() != 2:
        raise ValueError("ventricle_reference: expected two components (left and right)")
