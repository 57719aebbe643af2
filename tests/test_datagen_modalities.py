"""The simulated FDG-PET series (episode 01) carries what an SUV needs, fuses with the MR
series by position, and its verifier rejects damaged copies."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest

from medimg._datagen import modalities as pet
from medimg._datagen import mri


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    out = tmp_path_factory.mktemp("pet_fdg_sim")
    pet.build_pet_fdg_sim(out)
    return out


@pytest.fixture(scope="module")
def volume(series):
    """(slices, rows, columns) in Bq/mL, each slice with its own RescaleSlope."""
    files = [pydicom.dcmread(series / pet.slice_file_name(k)) for k in range(pet.N_SLICES)]
    return np.stack([f.pixel_array * float(f.RescaleSlope) for f in files]), files


@pytest.fixture
def copy(series, tmp_path):
    dst = tmp_path / "series"
    shutil.copytree(series, dst)
    return dst


def test_build_then_verify_passes(series):
    pet.verify_pet_fdg_sim(series)
    assert len(list(series.iterdir())) == pet.N_SLICES


def test_build_is_deterministic(series, tmp_path):
    pet.build_pet_fdg_sim(tmp_path)
    name = pet.slice_file_name(40)
    assert (tmp_path / name).read_bytes() == (series / name).read_bytes()


def test_suv_from_the_header_recovers_the_simulated_uptake(volume):
    bq_ml, files = volume
    ds = files[0]
    info = ds.RadiopharmaceuticalInformationSequence[0]
    hms = [ds.SeriesTime, info.RadiopharmaceuticalStartTime]
    seconds = [int(t[:2]) * 3600 + int(t[2:4]) * 60 + float(t[4:]) for t in hms]
    dose = float(info.RadionuclideTotalDose) * 2 ** (-(seconds[0] - seconds[1])
                                                      / float(info.RadionuclideHalfLife))
    suv = bq_ml / (dose / (float(ds.PatientWeight) * 1000))
    assert ds.Units == "BQML" and ds.DecayCorrection == "START"
    # Blurred grey matter peaks below its simulated SUV, but clearly above white matter.
    assert pet.SUV_WM < np.percentile(suv, 99.5) < pet.SUV_GM * 1.2
    assert suv.min() >= 0
    assert len({float(f.RescaleSlope) for f in files}) > 10, "slopes are per slice"


def test_left_temporal_focus_is_on_the_patients_left(volume):
    bq_ml, files = volume
    # Columns run to the patient's left (LPS +x): x_lps = -98 + 2 * column.
    cx_ras, cy_ras, cz_ras = pet.FOCUS_CENTRE_RAS
    k = int(round((cz_ras + 72) / pet.STEP))
    row = int(round((-cy_ras + 98) / pet.STEP))
    left_col = int(round((-cx_ras + 98) / pet.STEP))      # RAS x -50 -> LPS x +50
    right_col = int(round((cx_ras + 98) / pet.STEP))      # mirror image, RAS x +50
    near = np.s_[k - 2:k + 3, row - 5:row + 6]
    left = bq_ml[near][..., left_col - 5:left_col + 6].mean()
    right = bq_ml[near][..., right_col - 5:right_col + 6].mean()
    assert left < 0.85 * right


def test_same_frame_of_reference_and_grid_as_the_mr_series(volume):
    _, files = volume
    assert files[0].FrameOfReferenceUID == mri._uids()["frame"]
    assert files[0].StudyInstanceUID == mri._uids()["study"]
    first = [float(v) for v in files[0].ImagePositionPatient]
    assert first == [-98.0, -98.0, -72.0]     # the MR series' first voxel centre
    assert [float(v) for v in files[1].ImagePositionPatient][2] == -72.0 + pet.STEP


def test_missing_slice_is_rejected(copy):
    (copy / pet.slice_file_name(10)).unlink()
    with pytest.raises(ValueError, match="missing"):
        pet.verify_pet_fdg_sim(copy)


def test_wrong_units_are_rejected(copy):
    path = copy / pet.slice_file_name(3)
    ds = pydicom.dcmread(path)
    ds.Units = "CNTS"
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ValueError, match="Units"):
        pet.verify_pet_fdg_sim(copy)
