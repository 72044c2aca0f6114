"""Evidence files: what a supplier attaches to show a pledge was delivered.

A file's type is decided from its bytes, never from its name or the browser's header.
Photos are decoded and re-encoded with Pillow, so EXIF (above all GPS: photos of community
projects show children and homes) never reaches the store. Files are written under the
evidence folder (outside the static folder), named by a random key, completely or not at
all: a full disk leaves no half-written file behind. Only the pledge's parties and officers
may list or fetch them; to anyone else they do not exist.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from marketplace.models import EvidenceFile, Pledge, PledgeStatus, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ServiceUnavailable, ValidationFailed

log = logging.getLogger(__name__)

MAX_FILES = 10
MAX_BYTES = 10 * 1024 * 1024
# A photo larger than this many pixels is refused before it is decoded: a small file that
# decompresses to 20,000 × 20,000 pixels would otherwise take gigabytes of memory.
MAX_PIXELS = 50_000_000
NAME_MAX = 200
FIELD = "file"

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf", DOCX: ".docx", XLSX: ".xlsx", PPTX: ".pptx"} | {
    ODT: ".odt",
    ODS: ".ods",
    ODP: ".odp",
}
ACCEPTED_WORDS = "a photo (JPEG, PNG or HEIC), a PDF, or a Word, Excel, PowerPoint or OpenDocument file"
# Files may be added while the supplier is preparing or answering a request for more.
_OPEN_FOR_EVIDENCE = (PledgeStatus.APPROVED, PledgeStatus.DELIVERED)
# PDF features that run code or carry other files: not something a council opens.
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)\b")
_OOXML_PARTS = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}

try:  # HEIC (iPhone photos) through the maintained pillow-heif plugin, when installed.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIC_READABLE = True
except ImportError:  # pragma: no cover - the dependency is declared; this keeps a slim install working
    HEIC_READABLE = False


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the sender gave and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class CleanFile:
    """A file that passed every check, ready to store."""

    name: str
    content_type: str
    data: bytes


def clean_name(name: object) -> str:
    """The file's name for display, refused when it tries to name a path or hides characters.

    Raises:
        ValidationFailed: naming ``file``.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed({FIELD: "The file has no name; choose the file again"})
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValidationFailed({FIELD: "The file name must not contain control characters; rename it and try again"})
    if "/" in name or "\\" in name or ".." in name:
        raise ValidationFailed({FIELD: "The file name must not contain '/', '\\' or '..'; rename it and try again"})
    name = name.strip()
    if len(name) > NAME_MAX:
        raise ValidationFailed({FIELD: f"The file name must be {NAME_MAX} characters or fewer"})
    return name


def sniff(data: bytes) -> str | None:
    """The file's type from its first bytes (and, for office files, its zip contents); None if unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return None


def _office_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in (ODT, ODS, ODP) else None
            if "[Content_Types].xml" not in names:
                return None
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return "macro"
            for prefix, kind in _OOXML_PARTS.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def _pdf_is_passive(data: bytes) -> bool:
    """No JavaScript, launch actions or embedded files, also inside compressed streams."""
    if _PDF_ACTIVE.search(data):
        return False
    for match in re.finditer(rb"stream\r?\n", data):
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        decompressor = zlib.decompressobj()
        try:
            # Bounded: a compression bomb inside a PDF must not fill the memory either.
            chunk = decompressor.decompress(data[start:end], MAX_BYTES)
        except zlib.error:
            continue
        if _PDF_ACTIVE.search(chunk):
            return False
    return True


def _reencode(data: bytes, kind: str) -> tuple[bytes, str]:
    """Decode a photo and encode it afresh, keeping its pixels and orientation, no metadata."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationFailed(
                    {FIELD: f"The photo is {width:,} × {height:,} pixels; send one of at most 50 million pixels"}
                )
            image.load()
            upright = ImageOps.exif_transpose(image)  # turn it as the camera meant, before EXIF goes
            out = io.BytesIO()
            if kind == PNG:
                clean = upright if upright.mode in ("RGB", "RGBA", "L", "LA", "P") else upright.convert("RGBA")
                clean.save(out, format="PNG", optimize=True)  # no text chunks, no eXIf
                return out.getvalue(), PNG
            upright.convert("RGB").save(out, format="JPEG", quality=90)  # HEIC becomes JPEG: every browser shows it
            return out.getvalue(), JPEG
    except ValidationFailed:
        raise
    except Image.DecompressionBombError as error:
        raise ValidationFailed(
            {FIELD: "The photo has far too many pixels to be a real photo; send one of at most 50 million pixels"}
        ) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        log.info("photo refused", extra={"error": type(error).__name__})
        raise ValidationFailed(
            {FIELD: "The photo could not be read; it may be damaged. Save it again and retry"}
        ) from error


def check_file(upload: Upload) -> CleanFile:
    """Decide what the file is from its bytes, refuse what the council cannot accept, and strip photos.

    Raises:
        ValidationFailed: naming ``file``, saying what is wrong and what is accepted.
    """
    name = clean_name(upload.name)
    if not upload.data:
        raise ValidationFailed({FIELD: f"“{name}” is empty; choose the file again"})
    if len(upload.data) > MAX_BYTES:
        raise ValidationFailed({FIELD: f"“{name}” is larger than 10 MB; send a smaller file"})
    kind = sniff(upload.data)
    if kind == "macro":
        raise ValidationFailed({FIELD: f"“{name}” contains macros; save it as an ordinary document and try again"})
    if kind == "image/heic" and not HEIC_READABLE:
        kind = None
    if kind is None:
        raise ValidationFailed({FIELD: f"“{name}” is not {ACCEPTED_WORDS}"})
    data = upload.data
    if kind in (JPEG, PNG, "image/heic"):
        data, kind = _reencode(data, kind)
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = stem + EXTENSIONS[kind]
    elif kind == PDF and not _pdf_is_passive(data):
        raise ValidationFailed({FIELD: f"“{name}” contains JavaScript or embedded files; save it as a plain PDF"})
    return CleanFile(name=name[:NAME_MAX], content_type=kind, data=data)


def _write_whole(folder: Path, key: str, data: bytes) -> None:
    """Write the file under a temporary name and rename it: it is there completely or not at all."""
    temporary = folder / f".{key}.partial"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, folder / key)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        log.error("evidence not stored", extra={"error": type(error).__name__, "errno": error.errno})
        raise ServiceUnavailable(
            "The file could not be saved because the server's storage is unavailable or full. "
            "Nothing was stored; please try again later."
        ) from error


def _can_see(viewer: User, pledge: Pledge) -> bool:
    return (
        viewer.is_officer
        or viewer.organisation_id == pledge.supplier_id
        or (viewer.role is Role.COMMUNITY and viewer.organisation_id == pledge.need.organisation_id)
    )


def _visible_pledge(session: Session, viewer: User, pledge_id: int) -> Pledge:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or not _can_see(viewer, pledge):
        raise NotFound("There is no such pledge")
    return pledge


def add_evidence(session: Session, actor: User | None, pledge_id: int, upload: Upload, folder: Path) -> EvidenceFile:
    """The supplier attaches a file to its approved (or delivered, awaiting review) pledge.

    Raises:
        NotFound: for anyone outside the pledge; Forbidden: for its other parties;
        InvalidTransition: when the pledge takes no evidence now, or has 10 files;
        ValidationFailed: the file itself; ServiceUnavailable: the store could not take it.
    """
    return add_evidence_files(session, actor, pledge_id, [upload], folder)[0]


def add_evidence_files(
    session: Session, actor: User | None, pledge_id: int, uploads: list[Upload], folder: Path
) -> list[EvidenceFile]:
    """Attach several files, all or none: every file is checked before any is stored."""
    user = require_role(actor, Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    pledge = _visible_pledge(session, user, pledge_id)
    if not (user.role is Role.SUPPLIER and user.organisation_id == pledge.supplier_id):
        raise Forbidden("Only the supplier that made this pledge can add evidence to it")
    if pledge.status not in _OPEN_FOR_EVIDENCE or pledge.evidence_review == "accepted":
        raise InvalidTransition(f"This pledge is {pledge.status.value}, so evidence can no longer be added")
    if len(pledge.evidence_files) + len(uploads) > MAX_FILES:
        raise ValidationFailed({FIELD: f"A pledge can have at most {MAX_FILES} evidence files"})
    clean = [check_file(upload) for upload in uploads]
    stored: list[str] = []
    try:
        for item in clean:
            key = secrets.token_hex(16)
            _write_whole(folder, key, item.data)
            stored.append(key)
    except ServiceUnavailable:
        for key in stored:  # none of them, then
            with contextlib.suppress(OSError):
                (folder / key).unlink()
        raise
    added = []
    for key, item in zip(stored, clean, strict=True):
        row = EvidenceFile(
            pledge=pledge,
            storage_key=key,
            name=item.name,
            content_type=item.content_type,
            size=len(item.data),
            sha256=hashlib.sha256(item.data).hexdigest(),
            uploaded_by=user,
        )
        session.add(row)
        added.append(row)
    session.flush()
    for row in added:
        record(session, user, "evidence.add", "pledge", pledge.id, None, _snapshot(row))
        log.info("evidence added", extra={"pledge_id": pledge.id, "evidence_id": row.id, "size": row.size})
    return added


def _snapshot(item: EvidenceFile) -> dict[str, object]:
    return {
        "evidence_id": item.id,
        "name": item.name,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
    }


def list_evidence(session: Session, actor: User | None, pledge_id: int) -> list[EvidenceFile]:
    """The pledge's evidence files, to its parties and officers."""
    user = require_role(actor, Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    return list(_visible_pledge(session, user, pledge_id).evidence_files)


def get_evidence(session: Session, actor: User | None, evidence_id: int) -> EvidenceFile:
    """One evidence file, to the pledge's parties and officers; to anyone else it does not exist."""
    user = require_role(actor, Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    item = session.get(EvidenceFile, evidence_id)
    if item is None or not _can_see(user, item.pledge):
        raise NotFound("There is no such file")
    return item


def remove_evidence(session: Session, actor: User | None, evidence_id: int, folder: Path) -> Pledge:
    """The supplier takes back a file it attached, while the evidence is not yet accepted."""
    item = get_evidence(session, actor, evidence_id)
    pledge = item.pledge
    assert actor is not None
    if not (actor.role is Role.SUPPLIER and actor.organisation_id == pledge.supplier_id):
        raise Forbidden("Only the supplier that made this pledge can remove its evidence")
    if pledge.status is not PledgeStatus.APPROVED:
        raise InvalidTransition("Evidence already sent to the council stays with the pledge")
    record(session, actor, "evidence.remove", "pledge", pledge.id, _snapshot(item), None)
    session.delete(item)
    session.flush()
    with contextlib.suppress(OSError):
        (folder / item.storage_key).unlink()
    return pledge


def evidence_bytes(item: EvidenceFile, folder: Path) -> bytes:
    """The stored bytes of a file.

    Raises:
        NotFound: when the file is missing from the store (restored database without its files).
    """
    try:
        return (folder / item.storage_key).read_bytes()
    except OSError as error:
        log.error("evidence file missing", extra={"evidence_id": item.id, "error": type(error).__name__})
        raise NotFound("The file is missing from the evidence store; the council has been told") from error
