"""Episode 03 data builders: deterministic, verified, and the transform goes the stated way."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import SimpleITK as sitk

from medimg._datagen import registration as reg

FILES = {
    "ct_like_head": "ct_like_head.nii.gz",
    "ct_like_transform": "ct_like_true_transform.tfm",
    "t2_like_head": "t2_like_head.nii.gz",
    "ventricle_reference": "ventricles_reference.nii.gz",
}


def build(name, folder):
    out = folder / FILES[name]
    getattr(reg, f"build_{name}")(out)
    return out


def verify(name, path):
    getattr(reg, f"verify_{name}")(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ep03_data")
    return {name: build(name, folder) for name in FILES}


@pytest.mark.parametrize("name", list(FILES))
def test_build_then_verify_passes(built, name):
    verify(name, built[name])


@pytest.mark.parametrize("name", list(FILES))
def test_build_is_deterministic(built, name, tmp_path):
    again = build(name, tmp_path)
    assert again.read_bytes() == built[name].read_bytes()


@pytest.mark.parametrize("name", list(FILES))
def test_truncated_file_is_rejected(built, name, tmp_path):
    data = built[name].read_bytes()
    victim = tmp_path / FILES[name]
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        verify(name, victim)


@pytest.mark.parametrize("name", list(FILES))
def test_missing_file_is_rejected(name, tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        verify(name, tmp_path / FILES[name])


def rewrite(image, path):
    sitk.WriteImage(image, str(path), useCompression=True)
    return path


def test_ct_like_with_wrong_grid_or_content_is_rejected(built, tmp_path):
    ct = sitk.ReadImage(str(built["ct_like_head"]))
    moved = sitk.Image(ct)
    moved.SetOrigin([v + 5.0 for v in ct.GetOrigin()])
    with pytest.raises(ValueError, match="origin"):
        reg.verify_ct_like_head(rewrite(moved, tmp_path / "a.nii.gz"))
    with pytest.raises(ValueError, match="pixel type"):
        reg.verify_ct_like_head(rewrite(sitk.Cast(ct, sitk.sitkFloat32), tmp_path / "b.nii.gz"))
    blank = ct * 0 - 1000
    with pytest.raises(ValueError, match="implausible"):
        reg.verify_ct_like_head(rewrite(blank, tmp_path / "c.nii.gz"))


def test_t2_like_with_wrong_type_or_content_is_rejected(built, tmp_path):
    t2 = sitk.ReadImage(str(built["t2_like_head"]))
    with pytest.raises(ValueError, match="pixel type"):
        reg.verify_t2_like_head(rewrite(sitk.Cast(t2, sitk.sitkInt16), tmp_path / "a.nii.gz"))
    dimmer = sitk.Cast(sitk.Cast(t2, sitk.sitkFloat32) * 0.5, sitk.sitkUInt8)
    with pytest.raises(ValueError, match="CSF-bright"):
        reg.verify_t2_like_head(rewrite(dimmer, tmp_path / "b.nii.gz"))


def test_ventricle_reference_with_one_side_or_wrong_labels_is_rejected(built, tmp_path):
    mask = sitk.ReadImage(str(built["ventricle_reference"]))
    components = sitk.ConnectedComponent(mask)
    one_side = sitk.Cast(components == 1, sitk.sitkUInt8)
    with pytest.raises(ValueError):
        reg.verify_ventricle_reference(rewrite(one_side, tmp_path / "a.nii.gz"))
    with pytest.raises(ValueError, match="values"):
        reg.verify_ventricle_reference(rewrite(mask * 2, tmp_path / "b.nii.gz"))


def test_transform_with_other_parameters_or_type_is_rejected(tmp_path):
    other = reg.true_transform()
    other.SetTranslation((0.0, 0.0, 0.0))
    sitk.WriteTransform(other, str(tmp_path / "a.tfm"))
    with pytest.raises(ValueError, match="parameters"):
        reg.verify_ct_like_transform(tmp_path / "a.tfm")
    sitk.WriteTransform(sitk.TranslationTransform(3, (7.0, -8.0, 6.0)), str(tmp_path / "b.tfm"))
    with pytest.raises(ValueError, match="Euler3DTransform"):
        reg.verify_ct_like_transform(tmp_path / "b.tfm")
    (tmp_path / "c.tfm").write_text("not a transform\n")
    with pytest.raises(ValueError):
        reg.verify_ct_like_transform(tmp_path / "c.tfm")


def test_gzip_garbage_is_rejected(tmp_path):
    victim = tmp_path / "ct_like_head.nii.gz"
    victim.write_bytes(gzip.compress(b"\0" * 4096))
    with pytest.raises(ValueError):
        reg.verify_ct_like_head(victim)


def test_stored_transform_maps_ct_points_to_template_points(built):
    """Direction convention: x_mni = T(x_ct). A CT-like voxel holds the (noiseless) value
    found at T(x) on the template grid, up to noise; the inverse or no transform does not."""
    ct = sitk.ReadImage(str(built["ct_like_head"]))
    stored = sitk.ReadTransform(str(built["ct_like_transform"]))
    hu = reg.hu_on_mni_grid()
    ct_arr = sitk.GetArrayViewFromImage(ct)
    hu_arr = sitk.GetArrayViewFromImage(hu)
    rng = np.random.default_rng(0)
    indices = np.stack([rng.integers(0, n, 3000) for n in ct.GetSize()], axis=1)

    def mean_abs_difference(tx):
        diffs = []
        for index in indices:
            point = ct.TransformIndexToPhysicalPoint([int(v) for v in index])
            j = hu.TransformPhysicalPointToIndex(tx.TransformPoint(point))
            if all(0 <= j[k] < hu.GetSize()[k] for k in range(3)):
                x, y, z = (int(v) for v in index)
                diffs.append(float(ct_arr[z, y, x]) - float(hu_arr[j[2], j[1], j[0]]))
        assert len(diffs) > 2000
        return float(np.mean(np.abs(diffs)))

    assert mean_abs_difference(stored) < 30.0  # noise (5 HU) + nearest-voxel lookup at edges
    assert mean_abs_difference(stored.GetInverse()) > 100.0
    assert mean_abs_difference(sitk.Transform(3, sitk.sitkIdentity)) > 100.0


def test_transform_constants_are_a_rotation_of_about_ten_degrees_and_twelve_mm():
    tx = reg.true_transform()
    rotation = np.array(tx.GetMatrix()).reshape(3, 3)
    angle = np.degrees(np.arccos((np.trace(rotation) - 1) / 2))
    assert 8.0 < angle < 12.0
    assert 11.0 < np.linalg.norm(tx.GetTranslation()) < 13.0
    # The point at the rotation centre only moves by the translation.
    moved = np.subtract(tx.TransformPoint(reg.TRUE_CENTER_MM), reg.TRUE_CENTER_MM)
    np.testing.assert_allclose(moved, reg.TRUE_TRANSLATION_MM, atol=1e-9)


def test_builders_leave_the_thread_setting_alone(tmp_path):
    before = sitk.ProcessObject_GetGlobalDefaultNumberOfThreads()
    reg.build_ct_like_transform(tmp_path / FILES["ct_like_transform"])
    with reg._OneThread():
        assert sitk.ProcessObject_GetGlobalDefaultNumberOfThreads() == 1
    assert sitk.ProcessObject_GetGlobalDefaultNumberOfThreads() == before
