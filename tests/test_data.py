"""medimg.data: datasets by name, with a clear message when something is missing."""

import json

import pytest

from medimg import data


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    (tmp_path / "ct").mkdir()
    (tmp_path / "ct/a.dcm").write_bytes(b"x")
    (tmp_path / "manifest.json").write_text(json.dumps({"datasets": {
        "ct_a": {"path": "ct/a.dcm"}, "ct_gone": {"path": "ct/gone.dcm"}}}))
    return tmp_path


def test_path_finds_a_built_dataset(fake_data):
    assert data.path("ct_a") == fake_data / "ct/a.dcm"
    assert data.names() == ["ct_a", "ct_gone"]


def test_missing_file_says_run_fetch_data(fake_data):
    with pytest.raises(data.DataNotFoundError, match=r"run `python fetch_data.py`"):
        data.path("ct_gone")


def test_unknown_name_lists_the_known_ones_and_suggests(fake_data):
    with pytest.raises(data.DataNotFoundError) as info:
        data.path("ct")
    assert "unknown dataset 'ct'" in str(info.value)
    assert "Did you mean ct_a, ct_gone?" in str(info.value)
    assert "data.names()" in str(info.value) and "fetch_data.py" in str(info.value)


def test_no_data_at_all_says_run_fetch_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path / "nothing"))
    with pytest.raises(data.DataNotFoundError, match="no lesson data.*fetch_data.py"):
        data.path("mni_t1")
    assert issubclass(data.DataNotFoundError, FileNotFoundError)


def test_damaged_manifest_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(data.DataNotFoundError, match="damaged"):
        data.names()


def test_output_dir_is_created_under_notebooks():
    out = data.output_dir("unit-test")
    try:
        assert out.is_dir() and out.parent.name == "output"
        assert out.parent.parent.name == "notebooks"
    finally:
        out.rmdir()


def test_real_data_is_reachable_by_name():
    """After `make data`, every dataset of the table resolves (CI builds it first)."""
    import fetch_data

    try:
        built = set(data.names())
    except data.DataNotFoundError:
        pytest.skip("data not built in this checkout")
    assert built == {ds.name for ds in fetch_data.DATASETS}
    for name in built:
        assert data.path(name).exists()
