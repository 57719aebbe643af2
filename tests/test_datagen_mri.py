"""The DICOM MR series builder (episode 02) writes what its verifier accepts, and only that."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest

from medimg._datagen import mri


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    out = tmp_path_factory.mktemp("mni_t1_series")
    mri.build_mr_dicom_series(out)
    return out


@pytest.fixture
def copy(series, tmp_path):
    dst = tmp_path / "series"
    shutil.copytree(series, dst)
    return dst


def test_build_then_verify_passes(series):
    mri.verify_mr_dicom_series(series)
    assert len(list(series.iterdir())) == mri.N_SLICES


def test_build_is_deterministic(series, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    mri.build_mr_dicom_series(again)
    for name in (mri.slice_file_name(0), mri.slice_file_name(94)):
        assert (again / name).read_bytes() == (series / name).read_bytes()


def test_geometry_is_lps_and_values_rescale_to_template(series):
    first = pydicom.dcmread(series / mri.slice_file_name(0))
    last = pydicom.dcmread(series / mri.slice_file_name(mri.N_SLICES - 1))
    # RAS corner (98, 98, -72) of the 1 mm MNI grid is (-98, -98, -72) in LPS.
    assert [float(v) for v in first.ImagePositionPatient] == [-98.0, -98.0, -72.0]
    assert [float(v) for v in last.ImagePositionPatient] == [-98.0, -98.0, 116.0]
    assert len({first.SeriesInstanceUID, last.SeriesInstanceUID}) == 1
    assert first.SOPInstanceUID != last.SOPInstanceUID
    template, _ = mri._load_template()
    values = first.pixel_array * float(first.RescaleSlope) + float(first.RescaleIntercept)
    # Row 0 is the anterior edge, column 0 the patient's right edge.
    assert np.array_equal(values, template[::-1, ::-1, 0].T)


def test_missing_slice_is_rejected(copy):
    (copy / mri.slice_file_name(50)).unlink()
    with pytest.raises(ValueError, match="missing"):
        mri.verify_mr_dicom_series(copy)


def test_extra_file_is_rejected(copy):
    (copy / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="unexpected"):
        mri.verify_mr_dicom_series(copy)


def test_truncated_slice_is_rejected(copy):
    victim = copy / mri.slice_file_name(120)
    victim.write_bytes(victim.read_bytes()[:-1000])
    with pytest.raises(ValueError):
        mri.verify_mr_dicom_series(copy)


def test_header_only_stub_is_rejected(copy):
    victim = copy / mri.slice_file_name(3)
    victim.write_bytes(victim.read_bytes()[:600])
    with pytest.raises(ValueError):
        mri.verify_mr_dicom_series(copy)


def test_changed_pixel_is_rejected(copy):
    victim = copy / mri.slice_file_name(100)
    raw = bytearray(victim.read_bytes())
    raw[-5000] ^= 0x01  # one bit of one pixel, deep inside the pixel data
    victim.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="pixel values"):
        mri.verify_mr_dicom_series(copy)


def test_wrong_geometry_is_rejected(copy):
    victim = copy / mri.slice_file_name(10)
    ds = pydicom.dcmread(victim)
    ds.ImagePositionPatient = [98.0, 98.0, -62.0]  # RAS written where LPS belongs
    ds.save_as(victim, enforce_file_format=True)
    with pytest.raises(ValueError, match="ImagePositionPatient"):
        mri.verify_mr_dicom_series(copy)


def test_not_a_directory_is_rejected(tmp_path):
    with pytest.raises(ValueError):
        mri.verify_mr_dicom_series(tmp_path / "nothing_here")
