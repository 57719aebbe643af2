"""Episode 04 data builders: deterministic, verified, and the cohort has the stated properties."""

from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pydicom
import pytest

from medimg._datagen import ml


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cxr_cohort")
    ml.build_cxr_cohort(folder)
    return folder


@pytest.fixture(scope="module")
def harmonisation(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ml_harmonisation")
    ml.build_ml_harmonisation(folder)
    return folder


def copy_of(folder, tmp_path):
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def labels(folder):
    return list(csv.DictReader(io.StringIO((folder / "labels.csv").read_text())))


# ----------------------------------------------------------------------------- cohort
def test_cohort_build_then_verify_passes(cohort):
    ml.verify_cxr_cohort(cohort)


def test_cohort_build_is_deterministic(cohort, tmp_path):
    ml.build_cxr_cohort(tmp_path)
    for name in ml.cohort_files() + ["labels.csv"]:
        assert (tmp_path / name).read_bytes() == (cohort / name).read_bytes(), name


def test_cohort_sites_differ_as_documented(cohort):
    for site, cfg in ml.SITES.items():
        ds = pydicom.dcmread(cohort / ml.cohort_file_name(site, 0))
        assert ds.PhotometricInterpretation == cfg["photometric"]
        assert (ds.Rows, ds.Columns) == cfg["shape"]
        assert [float(v) for v in ds.PixelSpacing] == [cfg["spacing"]] * 2
        assert ds.ViewPosition == cfg["view"]
        assert ds.SeriesDescription.endswith(cfg["position"])
        assert ds.PatientName.family_name == "SIMULATED"
        assert "SIMULATED" in ds.ImageComments
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian


def test_cohort_prevalence_is_confounded_with_site(cohort):
    rows = labels(cohort)
    assert len(rows) == len(ml.SITES) * ml.N_PER_SITE
    for site, cfg in ml.SITES.items():
        findings = [int(r["finding"]) for r in rows if r["site"] == site]
        assert np.mean(findings) == pytest.approx(cfg["prevalence"])


def test_cohort_padding_and_inversion_are_where_the_docstring_says(cohort):
    b = pydicom.dcmread(cohort / ml.cohort_file_name("B", 0)).pixel_array
    assert (b[:ml.B_PAD] == 0).all() and (b[:, -ml.B_PAD:] == 0).all()  # zero frame
    shutter = b[ml.B_PAD:-ml.B_PAD, ml.B_PAD:ml.B_PAD + ml.B_SHUTTER]
    assert np.ptp(shutter) == 0  # constant collimator shutter
    # MONOCHROME1: the shutter (unexposed, bright on display) is stored LOW
    assert shutter.max() < 0.2 * ml.MAX_VALUE
    c = pydicom.dcmread(cohort / ml.cohort_file_name("C", 0)).pixel_array
    assert (c[:, :ml.C_PAD] == 0).all() and (c[:, -ml.C_PAD:] == 0).all()
    assert (c[:, ml.C_PAD] != 0).any()


def test_finding_adds_an_opacity(cohort):
    """Images with the finding are brighter in a lower lung zone than the same site's others."""
    rows = labels(cohort)
    site_a = [r for r in rows if r["site"] == "A"]
    means = {0: [], 1: []}
    for r in site_a:
        img = pydicom.dcmread(cohort / r["file"]).pixel_array.astype(float)
        lower = img[img.shape[0] // 2:]
        means[int(r["finding"])].append(lower.mean())
    assert np.mean(means[1]) > np.mean(means[0])


def test_cohort_with_changed_pixels_is_rejected(cohort, tmp_path):
    victim = copy_of(cohort, tmp_path)
    name = ml.cohort_file_name("A", 3)
    ds = pydicom.dcmread(victim / name)
    arr = ds.pixel_array.copy()
    arr[100, 100] += 1
    ds.PixelData = arr.tobytes()
    ds.save_as(victim / name, enforce_file_format=True)
    with pytest.raises(ValueError, match="pixel data"):
        ml.verify_cxr_cohort(victim)


def test_cohort_with_wrong_header_missing_file_or_bad_labels_is_rejected(cohort, tmp_path):
    victim = copy_of(cohort, tmp_path)
    name = ml.cohort_file_name("B", 0)
    ds = pydicom.dcmread(victim / name)
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.save_as(victim / name, enforce_file_format=True)
    with pytest.raises(ValueError, match="PhotometricInterpretation"):
        ml.verify_cxr_cohort(victim)

    victim2 = tmp_path / "second"
    shutil.copytree(cohort, victim2)
    (victim2 / ml.cohort_file_name("C", 5)).unlink()
    with pytest.raises(ValueError, match="missing"):
        ml.verify_cxr_cohort(victim2)

    victim3 = tmp_path / "third"
    shutil.copytree(cohort, victim3)
    text = (victim3 / "labels.csv").read_text().replace(",A,1,", ",A,0,", 1)
    (victim3 / "labels.csv").write_text(text)
    with pytest.raises(ValueError, match="labels.csv"):
        ml.verify_cxr_cohort(victim3)


def test_truncated_dicom_is_rejected(cohort, tmp_path):
    victim = copy_of(cohort, tmp_path)
    path = victim / ml.cohort_file_name("A", 0)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ValueError):
        ml.verify_cxr_cohort(victim)


def test_missing_folder_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        ml.verify_cxr_cohort(tmp_path / "nothing")
    with pytest.raises(ValueError, match="not a directory"):
        ml.verify_ml_harmonisation(tmp_path / "nothing")


# ----------------------------------------------------------------------------- tabular
def test_harmonisation_build_then_verify_passes_and_is_deterministic(harmonisation, tmp_path):
    ml.verify_ml_harmonisation(harmonisation)
    ml.build_ml_harmonisation(tmp_path)
    for name in (ml.FEATURES_CSV, ml.TRUTH_JSON):
        assert (tmp_path / name).read_bytes() == (harmonisation / name).read_bytes()


def test_harmonisation_table_has_the_stated_effects(harmonisation):
    """Within-site regression recovers the recorded disease effects; prevalence rises by site."""
    rows = list(csv.DictReader(io.StringIO((harmonisation / ml.FEATURES_CSV).read_text())))
    truth = json.loads((harmonisation / ml.TRUTH_JSON).read_text())
    site = np.array([r["site"] for r in rows])
    disease = np.array([int(r["disease"]) for r in rows])
    age = np.array([float(r["age"]) for r in rows])
    X = np.array([[float(r[f"f{j + 1}"]) for j in range(ml.N_FEATURES)] for r in rows])
    prevalence = [disease[site == s].mean() for s in ml.HARM_SITES]
    assert prevalence == sorted(prevalence) and prevalence[-1] - prevalence[0] > 0.5
    dummies = (site[:, None] == np.array(ml.HARM_SITES)[None, :]).astype(float)
    beta = np.linalg.lstsq(np.column_stack([dummies, age, disease]), X, rcond=None)[0]
    np.testing.assert_allclose(beta[-1], truth["disease_effect"], atol=0.5)
    # the site shifts are real: site means differ far more than noise allows
    site_means = np.array([X[site == s].mean(axis=0) for s in ml.HARM_SITES])
    assert np.ptp(site_means, axis=0).max() > 1.0


def test_harmonisation_with_edited_value_or_extra_file_is_rejected(harmonisation, tmp_path):
    victim = copy_of(harmonisation, tmp_path)
    lines = (victim / ml.FEATURES_CSV).read_text().splitlines()
    lines[5] = lines[5][:-1] + ("1" if lines[5][-1] != "1" else "2")
    (victim / ml.FEATURES_CSV).write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="differs"):
        ml.verify_ml_harmonisation(victim)
    victim2 = tmp_path / "second"
    shutil.copytree(harmonisation, victim2)
    (victim2 / "notes.txt").write_text("extra")
    with pytest.raises(ValueError, match="expected"):
        ml.verify_ml_harmonisation(victim2)
    victim3 = tmp_path / "third"
    shutil.copytree(harmonisation, victim3)
    lines = (victim3 / ml.FEATURES_CSV).read_text().splitlines()
    (victim3 / ml.FEATURES_CSV).write_text("\n".join(lines[:-10]) + "\n")
    with pytest.raises(ValueError, match="rows"):
        ml.verify_ml_harmonisation(victim3)
