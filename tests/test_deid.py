"""medimg.deid: plant identifying values everywhere in every DICOM file shipped with
pydicom and pydicom-data, de-identify, and look for them in memory, after a save and
re-read, and in the raw bytes of the written file."""

from __future__ import annotations

import datetime as dt
import warnings
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.misc import is_dicom
from pydicom.sequence import Sequence
from pydicom.uid import UID, UID_dictionary

from medimg import deid as deid_mod
from medimg.deid import (PROFILE, BurnedInAnnotationError, BurnedInTextWarning,
                         Deidentifier, load_profile, main)
from medimg.sources import package_dir

# Some shipped test files hold deliberately invalid values; pydicom warns when reading them.
pytestmark = [pytest.mark.filterwarnings(f"ignore:{text}:UserWarning") for text in
              ("Invalid value for VR", "The value length", "VR lookup failed",
               "Expected explicit VR", "Expected implicit VR")]

# ----------------------------------------------------------------------------- the files
ROOTS = [package_dir("pydicom") / "data", package_dir("data_store") / "data"]


def _is_dicom_file(path: Path) -> bool:
    if is_dicom(path):
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "SOPClassUID" in pydicom.dcmread(path, force=True)
    except Exception:  # noqa: BLE001
        return False


FILES = sorted(p for root in ROOTS for p in root.rglob("*")
               if p.is_file() and p.suffix not in (".py", ".pyc") and _is_dicom_file(p))
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]

# ----------------------------------------------------------------------------- planting
MARK = "QZVLEAK"  # every planted text value contains it (upper case, survives CS rules)
DATES = ("18880808", "18770707")


def m(i: int) -> str:
    return f"{MARK}{i:02d}"


def plant(ds: Dataset) -> Dataset:
    """Identifying values in every kind of place the issue lists."""
    ds.PatientName = f"{m(1)}^JANE"
    ds.PatientID = m(2)
    ds.OtherPatientIDs = m(3)
    ds.AccessionNumber = m(4)[:16]
    ds.InstitutionName = f"{m(5)} HOSPITAL"
    ds.ReferringPhysicianName = f"{m(6)}^DR"
    ds.StudyDescription = f"study of {m(7)}"
    ds.ImageComments = f"free text: patient {m(8)} lives at 1 Main Street"
    ds.AdditionalPatientHistory = f"history {m(9)}"
    ds.StudyDate, ds.PatientBirthDate = DATES
    ds.AcquisitionDateTime = DATES[0] + "101112"
    ds.StationName = m(10)
    # nested sequences two levels deep, with a private block inside an item
    inner = Dataset()
    inner.PatientName = f"{m(11)}^NESTED"
    inner.ImageComments = f"nested text {m(12)}"
    inner.ReferencedSOPInstanceUID = ds.get("SOPInstanceUID", "1.2.3.4.5.6.7")
    inner.add_new(0x00090010, "LO", "PLANT PRIVATE")
    inner.add_new(0x00091001, "LO", m(13))
    outer = Dataset()
    outer.OperatorsName = m(14)
    outer.ReferencedImageSequence = Sequence([inner])
    ds.SharedFunctionalGroupsSequence = Sequence([outer])
    # private attributes: LO, OB and SQ
    ds.add_new(0x00110010, "LO", "PLANT CREATOR")
    ds.add_new(0x00111001, "LO", m(15))
    ds.add_new(0x00111002, "OB", m(16).encode())
    item = Dataset()
    item.add_new(0x00110010, "LO", "PLANT CREATOR")
    item.add_new(0x00111001, "LO", m(17))
    ds.add_new(0x00111003, "SQ", Sequence([item]))
    # a standard tag stored with VR UN, and an unknown public tag
    ds.add(DataElement(0x00101001, "UN", f"{m(18)}^ALIAS".encode()))
    ds.add_new(0x00080777, "LO", m(19))  # even group, not in the dictionary
    # overlay and curve groups
    ds.add_new(0x60000022, "LO", m(20))
    ds.add_new(0x60001500, "LO", m(21))
    ds.add_new(0x60003000, "OB", (m(22) * 4).encode())
    ds.add_new(0x50002500, "LO", m(23))
    # file meta and preamble
    if not getattr(ds, "file_meta", None):
        ds.file_meta = FileMetaDataset()
    ds.file_meta.SourceApplicationEntityTitle = m(24)[:16]
    ds.file_meta.PrivateInformationCreatorUID = "1.2.3.4"
    ds.file_meta.PrivateInformation = m(25).encode()
    ds.preamble = (m(26).encode() * 20)[:128]
    plant_more(ds)
    return ds


# Values for the harder places (independent review): non-ASCII names, one planted UID
# referenced from several depths, and one frame of reference shared by every file.
NAMES = ("Müller^Zoë", "Ångström^Bjørn")
UID_REF = "1.2.826.0.1.3680043.9.7777.101"      # referenced at depth 0, 1 and 3
UID_FOR = "1.2.826.0.1.3680043.9.7777.102"      # the same frame of reference in every file
UID_URL = "1.2.826.0.1.3680043.9.7777.103"      # only inside a URL


def _item(**values) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def plant_more(ds: Dataset) -> None:
    utf8 = ds.get("SOPInstanceUID", "0")[-1:] in "02468"
    ds.SpecificCharacterSet = "ISO_IR 192" if utf8 else "ISO_IR 100"
    ds.OtherPatientNames = [NAMES[0] if utf8 else NAMES[1], f"{m(27).lower()}^b"]  # multi-valued
    ds.PatientTelephoneNumbers = [m(28), m(29)]
    ds.IssuerOfPatientID = m(30)
    ds.InstitutionAddress = f"1 {m(31)} Road"
    ds.DeviceSerialNumber = m(32)
    ds.ProtocolName = f"protocol {m(33)}"
    ds.SeriesDescription = f"series {m(34)}"
    ds.FrameOfReferenceUID = UID_FOR
    ds.RetrieveURL = f"https://pacs.example/{m(35)}?study={UID_URL}"
    # three levels deep: names, dates, a standard tag stored as UN, a private DA
    deep = _item(PersonName=f"{m(36)}^DEEP", ReferencedSOPInstanceUID=UID_REF,
                 ContentDate=DATES[1], ObservationDateTime=DATES[0] + "0909")
    deep.add(DataElement(0x00100020, "UN", m(37).encode()))
    deep.add_new(0x00431010, "LO", "DEEP CREATOR")
    deep.add_new(0x00431011, "DA", DATES[1])
    middle = _item(ReferencedImageSequence=Sequence([deep]), ReferencedSOPInstanceUID=UID_REF)
    ds.SourceImageSequence = Sequence([_item(DerivationImageSequence=Sequence([middle]))])
    ds.ReferencedImageSequence = Sequence(list(ds.get("ReferencedImageSequence", []))
                                          + [_item(ReferencedSOPInstanceUID=UID_REF)])
    # a private block inside an SQ inside a private SQ; private DA, TM, DT
    private_item = Dataset()
    private_item.add_new(0x00290010, "LO", "INNER CREATOR")
    private_item.add_new(0x00291001, "LO", m(38))
    private_item.add_new(0x00291002, "UI", UID_REF)
    ds.add_new(0x00330010, "LO", "OUTER CREATOR")
    ds.add_new(0x00331001, "SQ", Sequence([_item(
        ReferencedStudySequence=Sequence([private_item]))]))
    ds.add_new(0x00331002, "DA", DATES[0])
    ds.add_new(0x00331003, "TM", "235959")
    ds.add_new(0x00331004, "DT", DATES[1] + "120000")
    # overlay and curve groups at odd numbers, an icon image
    ds.add_new(0x60020022, "LO", f"overlay {m(39)}")
    ds.add_new(0x60FE1500, "LO", m(40))
    ds.add_new(0x501E2500, "LO", m(41))
    icon = _item(Rows=1, Columns=len(m(42)), SamplesPerPixel=1, BitsAllocated=8, BitsStored=8,
                 HighBit=7, PixelRepresentation=0, PhotometricInterpretation="MONOCHROME2")
    icon.PixelData = m(42).encode()
    ds.IconImageSequence = Sequence([icon])
    # structured-report content, request, other IDs, acquisition context, patient reference
    ds.ContentSequence = Sequence([_item(ValueType="CONTAINER", ContentSequence=Sequence([
        _item(ValueType="TEXT", TextValue=f"patient {m(43)} said"),
        _item(ValueType="PNAME", PersonName=f"{m(44)}^SR"),
        _item(ValueType="DATE", Date=DATES[0])]))])
    ds.RequestAttributesSequence = Sequence([_item(RequestedProcedureID=m(45),
                                                   ScheduledProcedureStepID=m(46))])
    ds.OtherPatientIDsSequence = Sequence([_item(PatientID=m(47), IssuerOfPatientID=m(48))])
    ds.AcquisitionContextSequence = Sequence([_item(TextValue=m(49),
                                                    DateTime=DATES[1] + "1200")])
    ds.ReferencedPatientSequence = Sequence([_item(ReferencedSOPInstanceUID=UID_REF)])
    # more file meta
    ds.file_meta.SendingApplicationEntityTitle = m(50)[:16]
    ds.file_meta.ReceivingApplicationEntityTitle = m(51)[:16]
    ds.file_meta.SourcePresentationAddress = f"https://{m(52)}.example/"


def raw_variants() -> list[bytes]:
    """Byte patterns that must not occur in a written file: the marker (searched in the
    upper-cased bytes, so any case) also in UTF-16, the planted names in every encoding."""
    found = {MARK.encode("utf-16-le"), MARK.encode("utf-16-be")}
    for name in NAMES:
        for text in (name, name.split("^")[0], name.upper(), name.split("^")[0].upper()):
            for codec in ("latin-1", "utf-8", "utf-16-le", "utf-16-be"):
                found.add(text.encode(codec).upper())
    return sorted(found)


def original_uids(ds: Dataset) -> set[str]:
    """Every instance UID in the original (not registered ones such as SOP classes)."""
    found = set()

    def walk(d):
        for elem in d:
            if elem.VR == "UI":
                for v in (elem.value if isinstance(elem.value, list)
                          else [elem.value]):
                    v = str(v or "").strip("\x00 ")
                    if v and v not in UID_dictionary and elem.tag not in deid_mod.CLASS_UID_TAGS:
                        found.add(v)
            elif elem.VR == "SQ":
                for it in elem.value:
                    walk(it)
    walk(ds)
    if getattr(ds, "file_meta", None) is not None:
        walk(ds.file_meta)  # e.g. the ImplementationClassUID of the writing software
    return {u for u in found if len(u) > 8}


def leaks(ds: Dataset, uids: set[str]) -> list[str]:
    """Planted values, original UIDs and forbidden kinds of element left in ``ds``."""
    bad = []

    def walk(d, where):
        for elem in d:
            tag = elem.tag
            name = f"{where}{tag}"
            if tag.is_private:
                bad.append(f"private {name}")
            if 0x5000 <= tag.group <= 0x50FF or 0x6000 <= tag.group <= 0x60FF:
                bad.append(f"overlay/curve {name}")
            if elem.VR == "UN":
                bad.append(f"UN {name}")
            if elem.VR == "SQ":
                for i, it in enumerate(elem.value):
                    walk(it, f"{name}[{i}].")
                continue
            if tag in (0x7FE00010, 0x7FE00008, 0x7FE00009):
                continue
            text = elem.value.decode("latin-1") if isinstance(elem.value, bytes) else str(elem.value)
            if MARK in text.upper() or any(date in text for date in DATES) or any(
                    part in text for name in NAMES for part in name.split("^")):
                bad.append(f"planted {name}={text[:40]!r}")
            values = elem.value if isinstance(elem.value, list) else [elem.value]
            if elem.VR == "UI" and {str(v).strip("\x00 ") for v in values} & uids:
                bad.append(f"original UID {name}")
    walk(ds, "")
    if getattr(ds, "file_meta", None) is not None:
        walk(ds.file_meta, "meta")
    return bad


def pixel_bytes(ds: Dataset) -> dict:
    return {t: ds[t].value for t in (0x7FE00010, 0x7FE00008, 0x7FE00009) if t in ds}


@pytest.fixture(scope="module")
def deid():
    return Deidentifier(secret=b"test secret", burned_in="warn")


# ----------------------------------------------------------------------------- the table
def test_profile_table_covers_the_standard():
    table = load_profile()
    assert len(table) == 655  # attributes in PS3.15 Table E.1-1, 2026c
    known = {0x00100010: "Z", 0x00100020: "Z/D", 0x00080050: "Z", 0x00100030: "Z",
             0x00080020: "Z", 0x00080080: "X/Z/D", 0x00081030: "X", 0x0008103E: "X",
             0x00204000: "X", 0x00101000: "X", 0x00102160: "X", 0x00080090: "Z",
             0x00181000: "X/Z/D", 0x0020000D: "U", 0x0020000E: "U", 0x00080018: "U",
             0x00200052: "U", 0x00081155: "U", 0x00880200: "X", 0x00081140: "X/Z/U*",
             0x00402017: "Z"}
    for tag, action in known.items():
        assert table.get(tag) == action, f"{tag:08X}: {table.get(tag)} != {action}"
    # every UID-valued row (VR UI) is replaced, every other action is a known code
    assert set(table.values()) <= set(deid_mod.RESOLVE)


# ----------------------------------------------------------------------------- all files
def test_every_shipped_dicom_file_is_found():
    assert len(FILES) >= 239, len(FILES)


def read_planted(path: Path, tmp_path: Path, via_disk: bool) -> Dataset:
    """The file with values planted in memory; with ``via_disk`` the planted data set is
    first written and read back, so the de-identifier sees raw elements as from a scanner."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = plant(pydicom.dcmread(path, force=True))
        if not via_disk:
            return ds
        if "TransferSyntaxUID" not in ds.file_meta:
            implicit, little = ds.original_encoding
            ds.file_meta.TransferSyntaxUID = (
                pydicom.uid.ImplicitVRLittleEndian if implicit else
                pydicom.uid.ExplicitVRLittleEndian if little else pydicom.uid.ExplicitVRBigEndian)
        ds.file_meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7")
        ds.file_meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", "1.2.3.4.5.6.7")
        list(ds.iterall())  # resolve raw elements (a few test files mix up their encoding)
        planted = tmp_path / "planted.dcm"
        ds.save_as(planted, enforce_file_format=True)
        back = pydicom.dcmread(planted)
        assert MARK.encode() in planted.read_bytes().upper() or back.file_meta.TransferSyntaxUID \
            == pydicom.uid.DeflatedExplicitVRLittleEndian
        return back


@pytest.mark.parametrize("via_disk", [False, True], ids=["in-memory", "from-disk"])
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_planted_identifiers_do_not_survive(path, via_disk, deid, tmp_path):
    ds = read_planted(path, tmp_path, via_disk)
    uids = original_uids(ds) | {UID_URL}
    pixels = pixel_bytes(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BurnedInTextWarning)
        out = deid.deidentify(ds)
    assert ds.PatientID == m(2), "the input data set was modified"
    # 1. in memory
    assert leaks(out, uids) == []
    assert pixel_bytes(out) == pixels
    assert out.PatientIdentityRemoved == "YES"
    assert out.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    assert "removed" in out.DeidentificationMethod and len(out.DeidentificationMethod) <= 64
    sop = out.file_meta.MediaStorageSOPInstanceUID
    assert UID(sop).is_valid and len(sop) <= 64
    if "SOPInstanceUID" in ds:
        assert out.SOPInstanceUID == sop == deid.new_uid(ds.SOPInstanceUID) != ds.SOPInstanceUID
        ref = out.SharedFunctionalGroupsSequence[0].ReferencedImageSequence[0]
        assert ref.ReferencedSOPInstanceUID == out.SOPInstanceUID  # references follow
    # one planted UID, referenced at three depths, maps to one new UID; the frame of
    # reference planted in every file maps to the same new UID in every file
    middle = out.SourceImageSequence[0].DerivationImageSequence[0]
    assert {middle.ReferencedSOPInstanceUID, out.ReferencedImageSequence[-1].ReferencedSOPInstanceUID,
            middle.ReferencedImageSequence[0].ReferencedSOPInstanceUID} == {deid.new_uid(UID_REF)}
    assert out.FrameOfReferenceUID == deid.new_uid(UID_FOR)
    assert "IconImageSequence" not in out and "OtherPatientIDsSequence" not in out
    # 2. written and read back
    written = deid_mod.save(out, tmp_path / "out.dcm")
    back = pydicom.dcmread(written)
    assert leaks(back, uids) == []
    assert pixel_bytes(back) == pixels
    assert back.file_meta.MediaStorageSOPInstanceUID == sop
    assert "SourceApplicationEntityTitle" not in back.file_meta
    # 3. raw bytes (inflated too when the transfer syntax is deflated)
    raw = written.read_bytes()
    assert raw[:128] == b"\x00" * 128
    streams = [raw]
    if back.file_meta.TransferSyntaxUID == pydicom.uid.DeflatedExplicitVRLittleEndian:
        start = 132  # after the preamble and b"DICM": (0002,0000) then the file meta
        meta_len = int.from_bytes(raw[start + 8:start + 12], "little")
        streams.append(zlib.decompress(raw[start + 12 + meta_len:], -zlib.MAX_WBITS))
    for stream in streams:
        upper = stream.upper()
        assert MARK.encode() not in upper
        for value in DATES:
            assert value.encode() not in stream
        for pattern in raw_variants():
            assert pattern not in upper, f"{pattern!r} in the bytes"
        for uid in uids:
            assert uid.encode() not in stream, f"original UID {uid} in the bytes"


def test_uid_map_is_stable_valid_and_injective(deid):
    assert len(deid.uid_map) > 300  # filled by the test above, over every file
    new = list(deid.uid_map.values())
    assert len(set(new)) == len(new)
    assert all(UID(u).is_valid and len(u) <= 64 and u.startswith("2.25.") for u in new)
    old = next(iter(deid.uid_map))
    assert deid.new_uid(old) == deid.uid_map[old]
    assert Deidentifier(secret=b"test secret").new_uid(old) == deid.uid_map[old]
    assert Deidentifier(secret=b"other").new_uid(old) != deid.uid_map[old]


# ----------------------------------------------------------------------------- options
def ct_small():
    return pydicom.dcmread(package_dir("pydicom") / "data" / "test_files" / "CT_small.dcm")


def test_dates_shift_per_patient_keeps_intervals():
    ds = ct_small()
    ds.StudyDate, ds.ContentDate = "20200110", "20200115"
    d = Deidentifier(dates="shift", secret=b"k")
    out = d.deidentify(ds)
    days = d.date_offset(ds.PatientID)
    assert days < 0
    import datetime as dt
    study = dt.datetime.strptime(out.StudyDate, "%Y%m%d").date()
    content = dt.datetime.strptime(out.ContentDate, "%Y%m%d").date()
    assert (content - study).days == 5
    assert study == dt.date(2020, 1, 10) + dt.timedelta(days=days)
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "shifted" in out.DeidentificationMethod and len(out.DeidentificationMethod) <= 64
    assert [c.CodeValue for c in out.DeidentificationMethodCodeSequence] == ["113100", "113107"]
    assert d.pseudonym("someone else") != d.pseudonym(ds.PatientID)
    assert out.PatientID == d.pseudonym(ds.PatientID) == d.deidentify(ct_small()).PatientID


def test_burned_in_annotation_is_respected():
    ds = ct_small()
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(BurnedInAnnotationError, match="burned_in='warn'"):
        Deidentifier().deidentify(ds)
    with pytest.warns(BurnedInTextWarning, match="YES"):
        Deidentifier(burned_in="warn").deidentify(ds)
    us = pydicom.dcmread(package_dir("data_store") / "data" / "US1_UNCR.dcm")
    assert "BurnedInAnnotation" not in us
    with pytest.warns(BurnedInTextWarning, match="absent"):
        Deidentifier().deidentify(us)


def test_bad_options_and_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="remove"):
        Deidentifier(dates="keep")
    with pytest.raises(TypeError, match="Dataset"):
        Deidentifier().deidentify("not a dataset")


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm",
                                  "emri_small_big_endian.dcm", "image_dfl.dcm"])
def test_shifted_dates_leave_nothing_planted(name, tmp_path):
    path = next(p for p in FILES if p.name == name)
    ds = read_planted(path, tmp_path, via_disk=True)
    uids = original_uids(ds) | {UID_URL}
    d = Deidentifier(dates="shift", secret=b"shift", burned_in="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BurnedInTextWarning)
        out = d.deidentify(ds)
    assert leaks(out, uids) == []
    deep = out.SourceImageSequence[0].DerivationImageSequence[0].ReferencedImageSequence[0]
    shifted = dt.date(1877, 7, 7) + dt.timedelta(days=d.date_offset(m(2)))
    assert deep.ContentDate == shifted.strftime("%Y%m%d")  # moved, not kept, not lost
    raw = deid_mod.save(out, tmp_path / "shifted.dcm").read_bytes()
    assert all(date.encode() not in raw for date in DATES)


def test_retrieve_url_and_input_path_do_not_survive():
    ds = ct_small()
    ds.RetrieveURL = f"https://pacs.example/wado?study={ds.StudyInstanceUID}"
    out = Deidentifier().deidentify(ds)
    assert not out.get("RetrieveURL") and out.filename is None
    assert ds.StudyInstanceUID not in str(list(out.iterall()))


def _cli_input(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    (src / "DOE_JANE" / "1999-01-02").mkdir(parents=True)  # names in paths, as often
    base = package_dir("pydicom") / "data" / "test_files"
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (src / "DOE_JANE" / "1999-01-02" / name).write_bytes((base / name).read_bytes())
    (src / "notes.txt").write_text("not an image")
    (src / "cut.dcm").write_bytes((base / "CT_small.dcm").read_bytes()[:3000])  # truncated
    (src / "DICOMDIR").write_bytes((base / "dicomdirtests" / "DICOMDIR").read_bytes())
    return src


def test_command_line(tmp_path, capsys):
    src = _cli_input(tmp_path)
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    out_dir = tmp_path / "out"
    assert main([str(src), str(out_dir)]) == 0
    text = capsys.readouterr().out
    assert "skipped notes.txt: notes.txt is not a DICOM file" in text
    assert "skipped cut.dcm" in text and "truncated" in text
    assert "skipped DICOMDIR: a DICOMDIR index" in text
    assert "2 file(s) de-identified" in text and "3 skipped" in text
    written = sorted(p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file())
    assert len(written) == 2 and all(p.suffix == ".dcm" for p in written)
    for p in written:  # input names and dates are not reused; name = pseudonym / new UID
        assert "DOE" not in str(p) and "1999" not in str(p) and "small" not in str(p)
        back = pydicom.dcmread(out_dir / p)
        assert p == Path(back.PatientID) / f"{back.SOPInstanceUID}.dcm"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    assert all(p.read_bytes() == b for p, b in before.items())  # input untouched
    # an existing, non-empty OUT_DIR is refused before anything is written
    assert main([str(src), str(out_dir)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.relative_to(out_dir) for p in out_dir.rglob("*") if p.is_file()) == written
    assert main([str(tmp_path / "missing"), str(tmp_path / "o2")]) == 2
    assert main([str(src), str(src / "inside")]) == 2
    assert "must not be IN_DIR" in capsys.readouterr().err
    assert main([str(src), str(tmp_path / "kept"), "--keep-names"]) == 0
    assert (tmp_path / "kept" / "DOE_JANE" / "1999-01-02" / "CT_small.dcm").is_file()


def test_command_line_unreadable_and_interrupted(tmp_path, capsys, monkeypatch):
    src = _cli_input(tmp_path)
    real_read = pydicom.dcmread

    def no_permission(path, *args, **kwargs):
        if Path(path).name == "MR_small.dcm":
            raise PermissionError(13, "Permission denied")
        return real_read(path, *args, **kwargs)
    monkeypatch.setattr(deid_mod.pydicom, "dcmread", no_permission)
    assert main([str(src), str(tmp_path / "out")]) == 0
    assert "skipped DOE_JANE/1999-01-02/MR_small.dcm: MR_small.dcm cannot be read " \
           "(Permission denied)" in capsys.readouterr().out
    monkeypatch.setattr(deid_mod.pydicom, "dcmread", real_read)

    def broken_save(ds, path):  # a failure half-way: the first file is already written
        if any(path.parent.parent.rglob("*.dcm")):
            raise KeyboardInterrupt
        return real_save(ds, path)
    real_save = deid_mod.save
    monkeypatch.setattr(deid_mod, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        main([str(src), str(tmp_path / "out2")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # nothing half-written
