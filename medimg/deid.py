"""De-identify DICOM files: the PS3.15 Annex E Basic Application Level Confidentiality Profile.

::

    from medimg.deid import Deidentifier
    deid = Deidentifier(dates="remove")        # one instance per data set you share
    clean = deid.deidentify(pydicom.dcmread(path))
    deid.save(clean, out_path)                 # temporary name, verify, rename

    python -m medimg.deid IN_DIR OUT_DIR [--dates remove|shift] [--burned-in refuse|warn]
    # writes OUT_DIR/<pseudonym>/<new SOP Instance UID>.dcm; OUT_DIR must be new or empty

What it does, in the main data set and inside every sequence item at any depth:

- applies the profile's action for every attribute of PS3.15 Table E.1-1 (edition
  ``PROFILE_EDITION``; the table is read from the pinned ``dicom-anonymizer`` package,
  which ships it as Python data): D (dummy value), Z (empty), X (remove), U (new UID);
  the combined actions are resolved as X/Z, X/Z/D, Z/D -> Z and X/D -> X;
- removes private attributes (any depth), elements whose VR is UN (their meaning cannot
  be checked), unknown public tags, group lengths, overlays (60xx), curves (50xx) and
  other retired repeating groups;
- goes further than the table where the table cannot know the content: every Person
  Name (PN), every free-text attribute (LT, ST, UT) and every URL or unlimited-characters
  attribute (UR, UC; e.g. Retrieve URL, which holds the original UIDs) that the table
  does not list is emptied, and with ``dates="remove"`` every date and time (DA, DT, TM) is emptied;
- replaces every UID that is not a registered DICOM UID (SOP classes, transfer syntaxes
  ... are kept) by ``2.25.<UUID>`` from a keyed hash: the same instance maps a UID to
  the same new UID in every file (references stay consistent), two different inputs
  never share an output (checked), and nobody without the secret can invert it;
- ``dates="shift"`` instead moves every date by a per-patient number of days
  (Retain Longitudinal Temporal Information with Modified Dates Option);
- replaces Patient Name and Patient ID by one pseudonym per patient;
- writes new file meta (only the required elements; MediaStorageSOPInstanceUID equals
  the new SOPInstanceUID) and a zeroed 128-byte preamble;
- sets PatientIdentityRemoved = YES, DeidentificationMethod and its code sequence
  (CID 7050) and LongitudinalTemporalInformationModified;
- never changes the pixel data bytes (it never decodes them, compressed or not);
- refuses (or, if asked, warns) when BurnedInAnnotation is YES, and warns when the
  attribute is absent on modalities that often carry burned-in text: the pixels are
  not checked here — that is a separate step (see episode 06).
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import hashlib
import hmac
import importlib.util
import os
import secrets
import shutil
import sys
import uuid
import warnings
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_has_tag, dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.uid import (UID, UID_dictionary, ExplicitVRBigEndian, ExplicitVRLittleEndian,
                         ImplicitVRLittleEndian)

from medimg.sources import package_dir

PROFILE_EDITION = "2026c"
TABLE_SOURCE = ("dicom-anonymizer 2.1.0, dicomanonymizer/dicom_anonymization_databases/"
                f"dicomfields_{PROFILE_EDITION}.py (PS3.15 Table E.1-1, DICOM {PROFILE_EDITION})")
# Variable names in that module -> our action code.
TABLE_CATEGORIES = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U",
                    "Z_D_TAGS": "Z/D", "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D",
                    "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*"}
# How a combined action is resolved when the IOD (and so the attribute's type) is unknown:
# an empty value is as safe as removal and keeps Type 2 attributes present.
RESOLVE = {"D": "D", "Z": "Z", "X": "X", "U": "U", "K": "K", "Z/D": "Z", "X/Z": "Z",
           "X/D": "X", "X/Z/D": "Z", "X/Z/U*": "X/Z/U*"}

# Our own ImplementationClassUID (a name-based UUID under 2.25): many inputs were written
# by pydicom, so reusing pydicom's would copy a UID of the input into the output.
IMPLEMENTATION_UID = f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'medimg.deid').int}"
IMPLEMENTATION_VERSION = "MEDIMG_DEID_1"

PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}
PATIENT_NAME, PATIENT_ID = 0x00100010, 0x00100020
# UIDs that name a kind of object, not an instance: kept as they are.
CLASS_UID_TAGS = {0x00080016, 0x00081150, 0x0008001A, 0x0008001B, 0x00080062, 0x0008010C,
                  0x00041510, 0x00041512, 0x00020002, 0x00020010, 0x00081190}
# Free text, and URLs/unlimited characters (a Retrieve URL holds the original UIDs).
FREE_TEXT_VRS = {"LT", "ST", "UT", "UR", "UC"}
DATE_VRS = {"DA", "DT", "TM"}
BURNED_IN_MODALITIES = {"US", "SC", "OT", "XC", "ES", "GM", "SM", "DOC", "IVUS"}

METHOD_CODES = {  # DICOM CID 7050 De-identification Method
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "shift": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
}


class DeidentificationError(RuntimeError):
    """A data set cannot be de-identified safely; the message says why and what to do."""


class BurnedInAnnotationError(DeidentificationError):
    """BurnedInAnnotation is YES: the pixels hold identifying text."""


class BurnedInTextWarning(UserWarning):
    """The pixels may hold burned-in text that metadata de-identification cannot remove."""


# ----------------------------------------------------------------------------- the table
def load_profile() -> dict[int, str]:
    """PS3.15 Table E.1-1 as ``{tag: action}``: tag as a 32-bit int, or for the three
    repeating-group rows (curves 50xx, overlays 60xx) a ``(value, mask)`` pair.

    Only the data module of ``dicom-anonymizer`` is executed (its package, which imports
    tqdm, is not imported).
    """
    path = package_dir("dicomanonymizer") / "dicom_anonymization_databases" / \
        f"dicomfields_{PROFILE_EDITION}.py"
    if not path.is_file():
        raise DeidentificationError(
            f"the profile table {path.name} is missing: install the pinned "
            f"dicom-anonymizer (`pip install -r requirements.txt`)")
    spec = importlib.util.spec_from_file_location(f"_dicomfields_{PROFILE_EDITION}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table: dict = {}
    for name, action in TABLE_CATEGORIES.items():
        for row in getattr(module, name):
            if len(row) == 4:  # a repeating group, e.g. overlays (60xx,3000): keyed by
                group, element, gmask, emask = row  # (value, mask); removed wholesale
                tag = ((group << 16) | element, (gmask << 16) | emask)
            else:
                tag = (row[0] << 16) | row[1]
            if tag in table and table[tag] != action:
                raise DeidentificationError(f"profile table lists {tag} twice")
            table[tag] = action
    return table


PROFILE = load_profile()


# ----------------------------------------------------------------------------- helpers
def _is_registered_uid(value: str) -> bool:
    return value in UID_dictionary


def _removed_group(group: int) -> bool:
    """Overlays (60xx), curves (50xx), retired variable pixel data (7Fxx but 7FE0),
    command (0000) and file meta (0002) groups inside a data set."""
    return (group in (0x0000, 0x0002) or 0x5000 <= group <= 0x50FF
            or 0x6000 <= group <= 0x60FF or (0x7F00 <= group <= 0x7FFF and group != 0x7FE0))


def _dummy(vr: str):
    """A non-empty value of the right VR that says nothing about anyone."""
    return {"PN": "ANONYMOUS", "DA": "19000101", "DT": "19000101000000", "TM": "000000",
            "AS": "000Y", "IS": "0", "DS": "0", "UR": "", "UI": None,
            "OB": b"\x00\x00", "OW": b"\x00\x00", "OF": b"\x00\x00\x00\x00",
            "OD": b"\x00" * 8, "OL": b"\x00" * 4, "OV": b"\x00" * 8,
            "US": 0, "SS": 0, "UL": 0, "SL": 0, "FL": 0.0, "FD": 0.0, "UV": 0, "SV": 0,
            "AT": None, "CS": "ANONYMIZED", "AE": "ANONYMIZED"}.get(vr, "ANONYMIZED")


def _values(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return list(value)
    return [value]


class Deidentifier:
    """Holds the options, the secret and the UID map for one data set to share.

    Use one instance for every file of a study (or a whole collection): UIDs, patient
    pseudonyms and date offsets stay consistent across those files.

    dates
        ``"remove"`` (default): every date and time is emptied or removed.
        ``"shift"``: every date (DA, DT, also the birth date) moves back by a per-patient
        number of days (``1..max_shift_days``), so intervals and ages are kept; times
        (TM) listed in the profile table are still emptied or removed, other times kept.
    burned_in
        ``"refuse"`` (default): raise :class:`BurnedInAnnotationError` when
        BurnedInAnnotation is YES. ``"warn"``: de-identify the metadata anyway and warn.
    warn_unflagged
        Warn (:class:`BurnedInTextWarning`) when BurnedInAnnotation is absent on a
        modality that often has burned-in text (ultrasound, secondary capture ...).
    secret
        Bytes or text keying the UID map, pseudonyms and date offsets. Default: a new
        random secret, so two runs give unlinkable outputs. Pass a fixed secret only to
        reproduce a run, and keep it away from the shared data.
    """

    def __init__(self, *, dates: str = "remove", burned_in: str = "refuse",
                 warn_unflagged: bool = True, secret: bytes | str | None = None,
                 max_shift_days: int = 3650, patient_prefix: str = "ANON"):
        if dates not in ("remove", "shift"):
            raise ValueError(f"dates must be 'remove' or 'shift', not {dates!r}")
        if burned_in not in ("refuse", "warn"):
            raise ValueError(f"burned_in must be 'refuse' or 'warn', not {burned_in!r}")
        if max_shift_days < 1:
            raise ValueError("max_shift_days must be at least 1")
        self.dates = dates
        self.burned_in = burned_in
        self.warn_unflagged = warn_unflagged
        self.max_shift_days = int(max_shift_days)
        self.patient_prefix = patient_prefix
        if secret is None:
            secret = secrets.token_bytes(32)
        self._secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        self.uid_map: dict[str, str] = {}
        self._reverse: dict[str, str] = {}

    # ------------------------------------------------------------------ keyed values
    def _digest(self, kind: str, text: str) -> bytes:
        return hmac.new(self._secret, f"{kind}\x00{text}".encode("utf-8", "replace"),
                        hashlib.sha256).digest()

    def new_uid(self, old: str) -> str:
        """The replacement of ``old``: ``2.25.`` + a UUID (RFC 9562 version 8) made from
        a keyed hash of ``old``; at most 44 characters; stable; checked injective."""
        old = str(old).strip("\x00 ")
        if old in self.uid_map:
            return self.uid_map[old]
        raw = bytearray(self._digest("uid", old)[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80  # version 8 (custom)
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC variant
        new = f"2.25.{uuid.UUID(bytes=bytes(raw)).int}"
        if new in self._reverse and self._reverse[new] != old:  # 2**-122 chance
            raise DeidentificationError(f"UID collision for {old!r}: use another secret")
        self.uid_map[old] = new
        self._reverse[new] = old
        return new

    def pseudonym(self, patient_id: str) -> str:
        """One stable pseudonym per original Patient ID (keyed, not invertible)."""
        return f"{self.patient_prefix}-{self._digest('pid', str(patient_id)).hex()[:12].upper()}"

    def date_offset(self, patient_id: str) -> int:
        """Days (negative) that every date of this patient moves by with dates='shift'."""
        n = int.from_bytes(self._digest("days", str(patient_id))[:8], "big")
        return -(1 + n % self.max_shift_days)

    # ------------------------------------------------------------------ values
    def _shift_date(self, value: str, vr: str, days: int) -> str | None:
        text = str(value).strip()
        if vr == "DA":
            text = text.replace(".", "")
        if len(text) < 8 or not text[:8].isdigit():
            return None
        try:
            day = _dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
            day += _dt.timedelta(days=days)
        except (ValueError, OverflowError):
            return None
        return day.strftime("%Y%m%d") + (text[8:] if vr == "DT" else "")

    def _set_dates(self, elem, days: int) -> bool:
        """Shift a DA/DT element in place; False if a value could not be parsed."""
        new = [self._shift_date(v, elem.VR, days) for v in _values(elem.value)]
        if any(v is None for v in new):
            return False
        elem.value = new if len(new) > 1 else (new[0] if new else "")
        return True

    def _map_uids(self, elem) -> None:
        new = [self.new_uid(v) for v in _values(elem.value) if str(v).strip("\x00 ")]
        elem.value = new if len(new) > 1 else (new[0] if new else "")

    def _empty(self, ds: Dataset, elem) -> None:
        if elem.VR == "SQ":
            elem.value = Sequence()
        else:
            elem.value = None if elem.VR not in ("OB", "OW", "UN") else b""

    def _apply(self, ds: Dataset, elem, action: str, ctx: dict) -> None:
        vr = elem.VR
        # dates: the option overrides the table (C action of the dates option)
        if vr in ("DA", "DT") and self.dates == "shift" and action != "U":
            if not self._set_dates(elem, ctx["days"]):
                del ds[elem.tag]
            return
        if action == "U" or (action == "X/Z/U*" and vr == "UI"):
            self._map_uids(elem)
        elif action == "X/Z/U*":  # a reference sequence: keep it, clean every item
            if vr == "SQ":
                for item in elem.value:
                    self._clean(item, ctx)
            else:
                self._empty(ds, elem)
        elif action == "X":
            del ds[elem.tag]
        elif action == "Z":
            self._empty(ds, elem)
        elif action == "D":
            if vr == "SQ":
                for item in elem.value:
                    self._clean(item, ctx)
            elif vr == "UI":
                self._map_uids(elem)
            elif vr == "AT":
                del ds[elem.tag]
            else:
                elem.value = _dummy(vr)
        elif action == "K":
            pass
        else:  # pragma: no cover - the table is checked at import
            raise DeidentificationError(f"unknown action {action!r}")

    # ------------------------------------------------------------------ the walk
    def _clean(self, ds: Dataset, ctx: dict, top: bool = False) -> None:
        for tag in list(ds.keys()):
            group, element = tag >> 16, tag & 0xFFFF
            if top and tag in PIXEL_TAGS:
                continue  # the pixel bytes are never touched
            if group % 2 == 1 or element == 0 or _removed_group(group):
                del ds[tag]  # private, group length, overlay, curve, command, meta
                continue
            try:
                elem = ds[tag]  # converts a raw element (pydicom resolves UN if it can)
            except Exception:  # noqa: BLE001 - a value we cannot read cannot be checked
                del ds[tag]
                continue
            vr = elem.VR
            if vr == "UN" or not dictionary_has_tag(tag):
                del ds[tag]  # unknown meaning: cannot be checked, so it goes
                continue
            action = PROFILE.get(tag)
            if tag == PATIENT_ID:
                if elem.value not in (None, ""):
                    elem.value = self.pseudonym(str(elem.value))
                continue
            if tag == PATIENT_NAME and top:
                elem.value = ctx["pseudonym"]
                continue
            if action is not None:
                self._apply(ds, elem, RESOLVE[action], ctx)
            elif vr == "PN" or vr in FREE_TEXT_VRS:
                elem.value = None  # names and free text the table cannot vouch for
            elif vr in DATE_VRS:
                if self.dates == "remove":
                    elem.value = None
                elif vr in ("DA", "DT") and not self._set_dates(elem, ctx["days"]):
                    elem.value = None
            elif vr == "UI":
                if tag not in CLASS_UID_TAGS:
                    new = [v if _is_registered_uid(str(v).strip("\x00 ")) else self.new_uid(v)
                           for v in _values(elem.value)]
                    elem.value = new if len(new) > 1 else (new[0] if new else "")
            elif vr == "SQ":
                for item in elem.value:
                    self._clean(item, ctx)

    # ------------------------------------------------------------------ public API
    def check_burned_in(self, ds: Dataset) -> None:
        """Refuse or warn according to BurnedInAnnotation (see the class docstring)."""
        flag = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
        if flag == "YES":
            msg = ("BurnedInAnnotation is YES: the pixels hold identifying text that this "
                   "tool does not remove; mask the text first (episode 06), or pass "
                   "burned_in='warn' to clean the metadata only")
            if self.burned_in == "refuse":
                raise BurnedInAnnotationError(msg)
            warnings.warn(msg, BurnedInTextWarning, stacklevel=3)
        elif (not flag and self.warn_unflagged and "PixelData" in ds
              and str(ds.get("Modality", "")).upper() in BURNED_IN_MODALITIES):
            warnings.warn(f"BurnedInAnnotation is absent on a {ds.Modality} image: check "
                          "the pixels for burned-in text before sharing",
                          BurnedInTextWarning, stacklevel=3)

    def deidentify(self, ds: Dataset) -> Dataset:
        """Return a de-identified copy of ``ds`` (``ds`` itself is left unchanged)."""
        if not isinstance(ds, Dataset):
            raise TypeError(f"deidentify() takes a pydicom Dataset, not {type(ds).__name__}")
        self.check_burned_in(ds)
        old_meta = getattr(ds, "file_meta", None) or FileMetaDataset()
        out = copy.deepcopy(ds)
        old_pid = str(ds.get("PatientID", "") or "")
        ctx = {"pseudonym": self.pseudonym(old_pid), "days": self.date_offset(old_pid)}
        self._clean(out, ctx, top=True)
        if "PatientID" in ds:
            out.PatientID = ctx["pseudonym"]
        out.PatientName = ctx["pseudonym"]
        out.PatientIdentityRemoved = "YES"
        method = f"medimg.deid, PS3.15 Basic Profile ({PROFILE_EDITION})"  # LO: <= 64 chars
        codes = [METHOD_CODES["basic"]]
        if self.dates == "shift":
            method += ", dates shifted"
            codes.append(METHOD_CODES["shift"])
            out.LongitudinalTemporalInformationModified = "MODIFIED"
        else:
            method += ", dates removed"
            out.LongitudinalTemporalInformationModified = "REMOVED"
        out.DeidentificationMethod = method
        items = []
        for value, meaning in codes:
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
            items.append(item)
        out.DeidentificationMethodCodeSequence = Sequence(items)
        out.file_meta = self._file_meta(ds, old_meta, out)
        out.preamble = b"\x00" * 128
        if hasattr(out, "filename"):
            out.filename = None  # the input's path (often a patient's name) stays behind
        return out

    def _file_meta(self, ds: Dataset, old: FileMetaDataset, out: Dataset) -> FileMetaDataset:
        meta = FileMetaDataset()
        meta.FileMetaInformationVersion = b"\x00\x01"
        sop_class = out.get("SOPClassUID") or old.get("MediaStorageSOPClassUID")
        if not sop_class:
            sop_class = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture, as a last resort
        meta.MediaStorageSOPClassUID = sop_class
        if "SOPInstanceUID" in out and out.SOPInstanceUID:
            meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
        elif old.get("MediaStorageSOPInstanceUID"):
            meta.MediaStorageSOPInstanceUID = self.new_uid(old.MediaStorageSOPInstanceUID)
        else:
            meta.MediaStorageSOPInstanceUID = self.new_uid(f"no-uid-{secrets.token_hex(8)}")
        syntax = old.get("TransferSyntaxUID")
        if not syntax:
            implicit, little = getattr(ds, "original_encoding", (None, None))
            syntax = (ImplicitVRLittleEndian if implicit and little is not False else
                      ExplicitVRBigEndian if little is False else ExplicitVRLittleEndian)
        meta.TransferSyntaxUID = UID(str(syntax))
        meta.ImplementationClassUID = IMPLEMENTATION_UID
        meta.ImplementationVersionName = IMPLEMENTATION_VERSION
        return meta

    # ------------------------------------------------------------------ files
    def deidentify_file(self, src: str | os.PathLike, dst: str | os.PathLike) -> Dataset:
        """Read ``src``, de-identify it and write ``dst`` (never over ``src``)."""
        src, dst = Path(src), Path(dst)
        if dst.exists() and src.exists() and os.path.samefile(src, dst):
            raise DeidentificationError(f"refusing to overwrite the input {src}")
        ds = read_dicom(src)
        out = self.deidentify(ds)
        save(out, dst)
        return out


def read_dicom(path: str | os.PathLike) -> Dataset:
    """Read a DICOM file, also one without preamble or file meta; clear error otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # odd VRs in test files
            ds = pydicom.dcmread(path, force=True)
    except OSError as exc:
        raise InvalidDicomError(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # noqa: BLE001
        raise InvalidDicomError(f"{path.name} is not a readable DICOM file ({exc})") from None
    if "SOPClassUID" not in ds and not getattr(ds, "file_meta", None):
        raise InvalidDicomError(f"{path.name} is not a DICOM file (no SOP Class, no file meta)")
    try:
        unreadable = len(ds) == 0 or all(el.VR == "UN" for el in ds)
    except Exception:  # noqa: BLE001
        unreadable = True
    if unreadable:
        raise InvalidDicomError(f"{path.name} is not a DICOM file (no readable attributes)")
    if _looks_truncated(ds, path.stat().st_size):
        raise InvalidDicomError(f"{path.name} ends in the middle of an element: the file is "
                                "truncated; not de-identified")
    if "Rows" in ds and not any(t in ds for t in (0x7FE00008, 0x7FE00009, 0x7FE00010)):
        raise InvalidDicomError(f"{path.name} describes an image (Rows) but holds no pixel "
                                "data: truncated, or a header-only file; not de-identified")
    return ds


def _looks_truncated(ds: Dataset, size: int) -> bool:
    """True when the last top-level element does not end exactly at the end of the file
    (pydicom stops silently at a cut). Not decidable for deflated files or when the last
    element has an undefined length; those count as complete."""
    meta = getattr(ds, "file_meta", None) or {}
    if not ds._dict or meta.get("TransferSyntaxUID") == pydicom.uid.DeflatedExplicitVRLittleEndian:
        return False
    last = ds._dict[max(ds._dict)]
    if not isinstance(last, pydicom.dataelem.RawDataElement) or last.length == 0xFFFFFFFF:
        return False
    if last.value is not None and len(last.value) < last.length:
        return True
    return last.value_tell + last.length != size


def save(ds: Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` under a temporary name, read it back, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".partial-{path.name}")
    try:
        ds.save_as(tmp, enforce_file_format=True)
        back = pydicom.dcmread(tmp)
        if back.file_meta.MediaStorageSOPInstanceUID != ds.file_meta.MediaStorageSOPInstanceUID:
            raise DeidentificationError(f"{path.name}: written file does not read back")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


# ----------------------------------------------------------------------------- command
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage


def output_name(out: Dataset) -> Path:
    """Where a de-identified file goes inside OUT_DIR: ``<pseudonym>/<new SOP UID>.dcm``.
    Input folder and file names are not reused: they often hold names or dates."""
    who = str(out.get("PatientID") or out.get("PatientName") or "ANON")
    sop = out.get("SOPInstanceUID") or out.file_meta.MediaStorageSOPInstanceUID
    return Path(who) / f"{sop}.dcm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m medimg.deid",
        description="De-identify every DICOM file under IN_DIR (subfolders too) into a new "
                    "folder OUT_DIR, as OUT_DIR/<pseudonym>/<new SOP Instance UID>.dcm. "
                    "OUT_DIR must not exist yet (or be empty); it appears only when the run "
                    "is complete.")
    parser.add_argument("in_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--dates", choices=("remove", "shift"), default="remove")
    parser.add_argument("--burned-in", choices=("refuse", "warn"), default="refuse")
    parser.add_argument("--keep-names", action="store_true",
                        help="keep the input's folder and file names (check them for "
                             "names and dates first)")
    args = parser.parse_args(argv)
    src, dst = args.in_dir.resolve(), args.out_dir.resolve()
    if not src.is_dir():
        print(f"error: input folder {args.in_dir} does not exist", file=sys.stderr)
        return 2
    if dst == src or src in dst.parents:
        print("error: OUT_DIR must not be IN_DIR or inside it (the input is never "
              "overwritten)", file=sys.stderr)
        return 2
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        print(f"error: {args.out_dir} already exists and is not an empty folder: choose a "
              "new OUT_DIR (nothing was written; existing files are never overwritten)",
              file=sys.stderr)
        return 2
    deid = Deidentifier(dates=args.dates, burned_in=args.burned_in)
    files = sorted(p for p in src.rglob("*") if p.is_file() and not p.is_symlink())
    dst.parent.mkdir(parents=True, exist_ok=True)
    staging = dst.parent / f".{dst.name}.partial-{os.getpid()}"
    staging.mkdir()
    done = skipped = failed = 0
    try:
        for path in files:
            rel = path.relative_to(src)
            try:
                ds = read_dicom(path)
            except (InvalidDicomError, OSError) as exc:
                print(f"skipped {rel}: {exc}")
                skipped += 1
                continue
            meta = getattr(ds, "file_meta", None) or {}
            if meta.get("MediaStorageSOPClassUID") == DICOMDIR_CLASS \
                    or "DirectoryRecordSequence" in ds:
                print(f"skipped {rel}: a DICOMDIR index (it lists the input's file names); "
                      "build a new one from the de-identified files if you need one")
                skipped += 1
                continue
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", BurnedInTextWarning)
                    out = deid.deidentify(ds)
                    target = staging / (rel if args.keep_names else output_name(out))
                    if target.exists():
                        raise DeidentificationError(
                            f"{target.relative_to(staging)} was already written from "
                            "another input file (a duplicate SOP Instance UID)")
                    save(out, target)
                for w in caught:
                    print(f"warning {rel}: {w.message}")
                done += 1
            except DeidentificationError as exc:
                print(f"not written {rel}: {exc}", file=sys.stderr)
                failed += 1
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                print(f"not written {rel}: could not be de-identified "
                      f"({type(exc).__name__}: {exc})", file=sys.stderr)
                failed += 1
        if dst.exists():
            dst.rmdir()  # empty, checked above
        os.replace(staging, dst)
    except BaseException:  # interrupted or failed: leave nothing half-written behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"{done} file(s) de-identified into {args.out_dir}, {skipped} skipped, "
          f"{failed} not written")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
