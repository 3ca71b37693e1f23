"""The fixed parts of the `files` service: `<app>/files/storage.py` (the `Storage` protocol
and the local filesystem implementation), `<app>/files/content.py` (file names, media
types, content sniffing) and `<app>/services/files_routes.py` (the content upload and the
signed download). `{app}` and `{File}`-style names are filled in by `services/files.py`."""

STORAGE = '''"""Where file contents live: the database holds only their metadata (`File`).

`Storage` is the small interface the app uses: `put`, `get`, `delete` and `url` (a
short-lived link to download the contents). `LocalStorage` keeps them in a folder
(`FILES_DIR`, default `./files`) and signs its links with HMAC-SHA256 (`FILES_SIGNING_KEY`,
random per process when unset: set it when several processes serve the app). To scale, give
`use_storage()` an S3-compatible implementation (see docs/generators.md, "files").
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


class Storage(Protocol):
    """Where file contents are kept, by key (`<org id>/<file id>`)."""

    provider: str  # the `StorageProvider` value recorded on each file

    def put(self, key: str, data: IO[bytes]) -> None:
        """Store the contents read from `data` under `key`, replacing any."""
        ...

    def get(self, key: str) -> Iterator[bytes]:
        """The contents under `key`, in chunks; `FileNotFoundError` when there are none."""
        ...

    def delete(self, key: str) -> None:
        """Delete the contents under `key` (nothing when there are none)."""
        ...

    def url(self, key: str, *, name: str, mime_type: str, expires_in: int) -> str:
        """A link to download the contents for `expires_in` seconds, as `name`."""
        ...


class LocalStorage:
    """Contents as files under a folder; links served by the app itself
    (`GET /v1/files/download`), signed and short-lived."""

    provider = "local"

    def __init__(self, root: Path, base_url: str, secret: bytes) -> None:
        self.root, self.base_url, self.secret = root, base_url.rstrip("/"), secret

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def put(self, key: str, data: IO[bytes]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            while chunk := data.read(CHUNK):
                out.write(chunk)
        os.replace(partial, path)

    def get(self, key: str) -> Iterator[bytes]:
        handle = self._path(key).open("rb")

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return chunks()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str, *, name: str, mime_type: str, expires_in: int) -> str:
        expires = str(int(time.time()) + expires_in)
        query = {"key": key, "name": name, "type": mime_type, "expires": expires,
                 "signature": self.sign(key, name, mime_type, expires)}
        return f"{self.base_url}/v1/files/download?{urllib.parse.urlencode(query)}"

    def sign(self, key: str, name: str, mime_type: str, expires: str) -> str:
        message = "\\n".join((key, name, mime_type, expires)).encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(self, key: str, name: str, mime_type: str, expires: str,
               signature: str) -> bool:
        """Whether a link is one this storage signed and has not expired."""
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(self.sign(key, name, mime_type, expires), signature)


_storage: Storage | None = None


def use_storage(storage: Storage) -> None:
    """Store contents in `storage` from now on (an S3-compatible one, for instance)."""
    global _storage
    _storage = storage


def storage() -> Storage:
    """The storage in use: by default `LocalStorage` of `FILES_DIR` (`./files`), its links
    starting with `FILES_PUBLIC_URL` (`http://localhost:8000`)."""
    global _storage
    if _storage is None:
        key = os.environ.get("FILES_SIGNING_KEY")
        _storage = LocalStorage(
            Path(os.environ.get("FILES_DIR", "files")),
            os.environ.get("FILES_PUBLIC_URL", "http://localhost:8000"),
            key.encode("utf-8") if key else secrets.token_bytes(32))
    return _storage
'''

CONTENT = '''"""Checks on uploads: names made safe, media types against an allow-list, and the
contents' first bytes (their signature) against the announced media type."""

from __future__ import annotations

import codecs
import unicodedata
import urllib.parse
from typing import IO

MAX_NAME = 200
# Media types recognised by their first bytes. Contents announced as one of them must
# start with its signature; contents starting with one must be announced as that type.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\\x89PNG\\r\\n\\x1a\\n",),
    "image/jpeg": (b"\\xff\\xd8\\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/zip": (b"PK\\x03\\x04", b"PK\\x05\\x06"),
    "application/gzip": (b"\\x1f\\x8b",),
    "application/x-7z-compressed": (b"7z\\xbc\\xaf\\x27\\x1c",),
    "application/vnd.rar": (b"Rar!\\x1a\\x07",),
    "application/x-msdownload": (b"MZ",),
    "application/x-executable": (b"\\x7fELF",),
}
# Formats that are ZIP archives inside.
ZIP_BASED = frozenset({
    "application/epub+zip",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
})
# Text formats: UTF-8 without NUL bytes.
TEXT = frozenset({"application/json", "application/xml", "image/svg+xml"})
HEAD = 16


def normalize_type(value: str) -> str:
    """`Image/PNG; q=1` -> `image/png`."""
    return value.split(";", 1)[0].strip().lower()


def kind_allowed(mime_type: str, kinds: tuple[str, ...]) -> bool:
    """Whether `mime_type` is one of `kinds` (`image/*` matches every image type)."""
    for kind in kinds:
        if kind in ("*/*", mime_type) or (kind.endswith("/*") and
                                          mime_type.startswith(kind[:-1])):
            return True
    return False


def sanitize_name(name: str) -> str:
    """A name safe to store and to send back: the last path component, no control or
    reserved characters, no `..`, no leading dot, at most `MAX_NAME` characters."""
    text = unicodedata.normalize("NFC", name).replace("\\\\", "/").rsplit("/", 1)[-1]
    text = "".join("_" if c in \'<>:"|?*\' else c for c in text
                   if not unicodedata.category(c).startswith("C"))
    while ".." in text:
        text = text.replace("..", ".")
    text = text.strip().lstrip(".").strip()
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        keep = f"{dot}{ext}" if dot and 0 < len(ext) <= 16 else ""
        text = (stem if keep else text)[:MAX_NAME - len(keep)] + keep
    return text or "file"


def detect(head: bytes) -> str | None:
    """The media type the first bytes show, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    for kind, signatures in SIGNATURES.items():
        if head.startswith(signatures):
            return kind
    return None


def matches(mime_type: str, data: IO[bytes]) -> bool:
    """Whether the contents read from `data` are of the announced `mime_type` (as far as
    their signature or encoding tell); `data` is read, then rewound."""
    head = data.read(HEAD)
    data.seek(0)
    found = detect(head)
    if mime_type in ZIP_BASED:
        return found == "application/zip"
    if mime_type in SIGNATURES or mime_type == "image/webp":
        return found == mime_type
    if found is not None:
        return False
    if mime_type.startswith("text/") or mime_type in TEXT:
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := data.read(64 * 1024):
                if b"\\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        finally:
            data.seek(0)
    return True


def content_disposition(name: str) -> str:
    """`attachment` with the name, ASCII-safe and in UTF-8 (RFC 6266)."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in \'"\\\\\' else "_" for c in name)
    return (f\'attachment; filename="{ascii_name}"; \'
            f"filename*=UTF-8\'\'{urllib.parse.quote(name, safe=\'\')}")
'''

ROUTES = '''"""The HTTP endpoints of files besides the spec's operations: the contents of an
announced upload (`PUT /v1/files/{file_id}/content`, the raw bytes as the body) and the
signed, short-lived download links of the local storage (`GET /v1/files/download`)."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from {app}.api import errors, schemas
from {app}.api.context import Context
from {app}.api.deps import ActorDep, SessionDep
from {app}.files.content import content_disposition
from {app}.files.storage import LocalStorage, storage
from {app}.services import files as files_service

router = APIRouter()
# The paths whose request bodies these routes limit themselves (main.py's BodyLimit skips them).
BODY_PATHS = ("/v1/files/",)


@dataclass
class Body:
    """A request body read to a temporary file: the file, its size and SHA-256."""

    data: IO[bytes]
    size: int
    checksum: str


async def read_body(request: Request) -> AsyncIterator[Body]:
    """The request body, refused with 413 as soon as it exceeds the largest size any
    `attachments` accepts."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > files_service.LIMIT:
        raise {TooLarge}(details={"max": files_service.LIMIT})
    digest, size = hashlib.sha256(), 0
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        async for chunk in request.stream():
            size += len(chunk)
            if size > files_service.LIMIT:
                raise {TooLarge}(details={"max": files_service.LIMIT})
            digest.update(chunk)
            spool.write(chunk)
        spool.seek(0)
        yield Body(spool, size, digest.hexdigest())


# The error responses of the content upload and of the download: status -> description.
CONTENT_ERRORS = {content_errors}
DOWNLOAD_ERRORS = {download_errors}
BINARY = {"schema": {"type": "string", "format": "binary"}}


def _errors(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route: each status with the error body."""
    return {s: {"model": schemas.ErrorBody, "description": d} for s, d in statuses.items()}


@router.put(
    "/v1/files/{file_id}/content",
    operation_id="put_file_content",
    summary="the contents of an upload",
    tags=["files"],
    openapi_extra={"requestBody": {"required": True,
                                   "content": {"application/octet-stream": BINARY}}},
    responses=_errors(CONTENT_ERRORS),
)
def put_file_content(file_id: uuid.UUID, actor: ActorDep, session: SessionDep,
                     body: Annotated[Body, Depends(read_body)]) -> schemas.{FileRead}:
    """The contents of an upload announced with `startUpload`, by its owner."""
    return files_service.put_content(Context(session, actor), file_id, body.data, body.size,
                                     body.checksum)


@router.get(
    "/v1/files/download",
    operation_id="download_file",
    summary="a file's contents, by a signed link",
    tags=["files"],
    response_class=StreamingResponse,
    responses={200: {"description": "The file's contents, as its media type.",
                     "content": {"application/octet-stream": BINARY}},
               **_errors(DOWNLOAD_ERRORS)},
)
def download_file(key: str, name: str, type: str, expires: str,
                  signature: str) -> StreamingResponse:
    """The contents behind a link of `getDownloadUrl` (local storage)."""
    store = storage()
    if not isinstance(store, LocalStorage) or not store.verify(key, name, type, expires,
                                                               signature):
        raise errors.Forbidden("This link is not valid, or it has expired.")
    try:
        chunks = store.get(key)
    except (FileNotFoundError, ValueError) as error:
        raise errors.NotFound() from error
    headers = {"Content-Disposition": content_disposition(name),
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    return StreamingResponse(chunks, media_type=type, headers=headers)
'''

SERVICE = '''"""The `files` module's operations: uploads checked against the `attachments on`
declarations (media types, sizes, who may upload, view and delete), downloads through
short-lived links, and the jobs that scan uploads and purge expired files."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import sqlalchemy as sa

from {app} import enums, policies
from {app}.api import errors, schemas
from {app}.api.context import Context
from {app}.auth import Actor
from {app}.db import models
from {app}.events import models as events
from {app}.events import outbox
from {app}.files.content import kind_allowed, matches, normalize_type, sanitize_name
from {app}.files.storage import storage
from {app}.jobs.definitions import JobContext, {PurgeInput}, {ScanInput}

Rule = Callable[[Actor, Any], bool]

URL_TTL = 300  # seconds a download link stays valid
PENDING_TTL = datetime.timedelta(days=1)  # an upload never completed is purged after it
# Files attached to no record: the media types and the size accepted.
DEFAULT_KINDS = ("application/pdf", "image/*", "text/plain", "text/csv")
DEFAULT_MAX_SIZE = 10 * 1024 * 1024


@dataclass(frozen=True)
class Attachable:
    """An `attachments on` declaration: the entity's model and key type, the media types
    and largest size accepted, how long files are kept, and its `upload`, `view` and
    `delete` rules over (actor, record); None leaves it to the operation's policy."""

    model: type[Any]
    key: Callable[[str], Any]
    kinds: tuple[str, ...]
    max_size: int | None
    retention: datetime.timedelta | None
    upload: Rule | None
    view: Rule | None
    delete: Rule | None

{rules}
'''

SERVICE_OPS = '''

def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _record(ctx: Context, entity_type: str, entity_id: str) -> tuple[Attachable, Any]:
    """The attachable record `entity_type` `entity_id`: 422 when the entity takes no
    attachments, 404 when there is no such record the actor may read."""
    spec = ATTACHABLE.get(entity_type)
    if spec is None:
        known = ", ".join(sorted(ATTACHABLE))
        raise {NotAttachable}(details={"entityType": entity_type, "attachable": known})
    try:
        key = spec.key(entity_id)
    except ValueError as error:
        raise errors.NotFound() from error
    return spec, ctx.get(spec.model, key)


def _readable(ctx: Context, entity_type: str, entity_id: str) -> tuple[Attachable, Any] | None:
    """The attachable record if the actor may read it, else None."""
    spec = ATTACHABLE.get(entity_type)
    if spec is None:
        return None
    try:
        key = spec.key(entity_id)
    except ValueError:
        return None
    column = sa.inspect(spec.model).primary_key[0]
    row = ctx.session.scalar(sa.select(spec.model).where(
        column == key, policies.readable(spec.model, ctx.actor)))
    return None if row is None else (spec, row)


def _file(ctx: Context, file_id: uuid.UUID) -> models.{File}:
    """A file of the actor's organisation that is not deleted; 404 otherwise."""
    row = ctx.session.scalar(sa.select(models.{File}).where(
        models.{File}.id == file_id, models.{File}.org_id == ctx.actor.org_id,
        models.{File}.status != enums.{FileStatus}.deleted))
    if row is None:
        raise {FileNotFound}()
    return row


def _policy_reads(ctx: Context, row: models.{File}) -> bool:
    """Whether the File policy's `read` rule lets the actor see the file."""
    return ctx.session.scalar(sa.select(models.{File}.id).where(
        models.{File}.id == row.id, policies.readable(models.{File}, ctx.actor))) is not None


def _viewable_stored(ctx: Context, file_id: uuid.UUID) -> models.{File}:
    """A stored file the actor may view (through a record it is attached to, or the File
    policy): 404 otherwise, 409 while its upload is not complete."""
    row = _file(ctx, file_id)
    attachments = _attachments(ctx.session, row.id)
    if attachments:
        visible = any(_may(ctx, a, "view") for a in attachments)
    else:
        visible = _policy_reads(ctx, row)
    if not visible:
        raise {FileNotFound}()
    if row.status != enums.{FileStatus}.stored:
        raise errors.Conflict("The file is not stored yet: complete its upload first.")
    return row


def _attachments(session: Any, file_id: uuid.UUID) -> list[models.{Attachment}]:
    query = sa.select(models.{Attachment}).where(models.{Attachment}.file_id == file_id)
    return list(session.scalars(query.order_by(models.{Attachment}.id)).all())


def _may(ctx: Context, attachment: models.{Attachment}, action: str) -> bool:
    """Whether the actor may `view` or `delete` the file through this attachment: they
    may read its record and the declaration's rule (or, for `delete` without one, the
    Attachment policy) allows it."""
    found = _readable(ctx, attachment.entity_type, attachment.entity_id)
    if found is None:
        return False
    spec, row = found
    rule = spec.view if action == "view" else spec.delete
    if rule is None:
        return action == "view" or _attachment_may_delete(ctx.actor, attachment)
    return rule(ctx.actor, row)


def _remove(session: Any, row: models.{File}) -> None:
    """Delete a file's contents and attachments; the record stays, `deleted`."""
    for attachment in _attachments(session, row.id):
        session.delete(attachment)
    storage().delete(row.location)
    row.status = enums.{FileStatus}.deleted


def {start}(ctx: Context, data: schemas.{StartInput}) -> schemas.{FileRead}:
    """Announce an upload: the name made safe, the media type and size checked against the
    record's `attachments` (or the defaults for a file attached to nothing)."""
    mime_type = normalize_type(data.mimeType)
    if (data.entityType is None) != (data.entityId is None):
        raise {NotAttachable}("Give both entityType and entityId, or neither.")
    kinds: tuple[str, ...] = DEFAULT_KINDS
    max_size: int | None = DEFAULT_MAX_SIZE
    retention: datetime.timedelta | None = None
    if data.entityType is not None and data.entityId is not None:
        spec, record = _record(ctx, data.entityType, data.entityId)
        if spec.upload is not None and not spec.upload(ctx.actor, record):
            raise {UploadNotAllowed}()
        kinds, max_size, retention = spec.kinds or ("*/*",), spec.max_size, spec.retention
    if not kind_allowed(mime_type, kinds):
        raise {KindNotAllowed}(details={"mimeType": mime_type, "allowed": ", ".join(kinds)})
    if max_size is not None and data.size > max_size:
        raise {TooLarge}(details={"size": data.size, "max": max_size})
    file_id = uuid.uuid4()
    row = models.{File}(
        id=file_id, org_id=ctx.actor.org_id, owner_id=ctx.actor.user_id,
        name=sanitize_name(data.name), mime_type=mime_type, size=data.size,
        provider=enums.{StorageProvider}(storage().provider),
        location=f"{ctx.actor.org_id.hex}/{file_id.hex}", status=enums.{FileStatus}.pending,
        expires_at=None if retention is None else _now() + retention)
    ctx.session.add(row)
    if data.entityType is not None and data.entityId is not None:
        ctx.session.add(models.{Attachment}(
            org_id=ctx.actor.org_id, file_id=file_id, entity_type=data.entityType,
            entity_id=data.entityId, attached_by_id=ctx.actor.user_id))
    ctx.session.flush()
    ctx.emit(events.{StartedEvent}, events.{StartedEvent}Payload(file=file_id))
    ctx.commit()
    return schemas.{FileRead}.from_row(row)


def put_content(ctx: Context, file_id: uuid.UUID, body: IO[bytes], size: int,
                checksum: str) -> schemas.{FileRead}:
    """Store the contents of a pending upload, by its owner: exactly the announced size
    (413 over it, 422 otherwise) and of the announced media type (415)."""
    row = _file(ctx, file_id)
    if row.owner_id != ctx.actor.user_id:
        raise {UploadNotAllowed}()
    if row.status != enums.{FileStatus}.pending:
        raise {NotPending}()
    if size > row.size:
        raise {TooLarge}(details={"size": size, "announced": row.size})
    if size != row.size:
        raise {Mismatch}(details={"size": size, "announced": row.size})
    if not matches(row.mime_type, body):
        raise {KindNotAllowed}("The contents are not of the announced media type.",
                               details={"mimeType": row.mime_type})
    storage().put(row.location, body)
    row.checksum = checksum
    ctx.commit()
    return schemas.{FileRead}.from_row(row)


def {complete}(ctx: Context, data: schemas.{CompleteInput}) -> schemas.{FileRead}:
    """Confirm an upload whose contents arrived with this SHA-256: the file is stored."""
    row = _file(ctx, data.file)
    if row.owner_id != ctx.actor.user_id:
        raise {FileNotFound}()
    if row.status != enums.{FileStatus}.pending:
        raise {NotPending}()
    if row.checksum is None or row.checksum != data.checksum.lower():
        raise {Mismatch}(details={"received": row.checksum})
    row.status = enums.{FileStatus}.stored
    ctx.emit(events.{UploadedEvent},
             events.{UploadedEvent}Payload(file=row.id, by=ctx.actor.user_id))
    ctx.commit()
    return schemas.{FileRead}.from_row(row)


def {download}(ctx: Context, data: schemas.{DownloadInput}) -> str:
    """A short-lived link to a stored file the actor may view: through the `view` rule of
    a record it is attached to, or the File policy for a file attached to nothing."""
    row = _file(ctx, data.file)
    attachments = _attachments(ctx.session, row.id)
    if attachments:
        if not any(_may(ctx, a, "view") for a in attachments):
            raise {ViewNotAllowed}()
    elif not _policy_reads(ctx, row):
        raise {FileNotFound}()
    if row.status != enums.{FileStatus}.stored:
        raise {FileNotFound}("The file is not stored yet.")
    return storage().url(row.location, name=row.name, mime_type=row.mime_type,
                         expires_in=URL_TTL)


def {list_attachments}(ctx: Context,
                       data: schemas.{ListAttachmentsInput}) -> schemas.{AttachmentPage}:
    """The stored files attached to a record the actor may read, when the `view` rule of
    its `attachments` allows."""
    spec, record = _record(ctx, data.entityType, data.entityId)
    if spec.view is not None and not spec.view(ctx.actor, record):
        raise {ViewNotAllowed}()
    query = sa.select(models.{Attachment}).join(models.{Attachment}.file).where(
        models.{Attachment}.org_id == ctx.actor.org_id,
        models.{Attachment}.entity_type == data.entityType,
        models.{Attachment}.entity_id == data.entityId,
        models.{File}.status == enums.{FileStatus}.stored)
    total = ctx.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = query.order_by(models.{Attachment}.attached_at, models.{Attachment}.id)
    rows = ctx.session.scalars(page.limit(data.size).offset((data.page - 1) * data.size))
    return schemas.{AttachmentPage}(items=[schemas.{AttachmentRead}.from_row(r) for r in rows],
                                    total=total or 0, page=data.page, size=data.size)


def {detach}(ctx: Context, data: schemas.{DetachInput}) -> None:
    """Detach a file from a record (the `delete` rule of its `attachments`); the file is
    deleted once nothing refers to it."""
    attachment = ctx.session.scalar(sa.select(models.{Attachment}).where(
        models.{Attachment}.id == data.attachment,
        models.{Attachment}.org_id == ctx.actor.org_id))
    if attachment is None or _readable(ctx, attachment.entity_type,
                                       attachment.entity_id) is None:
        raise {AttachmentNotFound}()
    if not _may(ctx, attachment, "delete"):
        raise {RemoveNotAllowed}()
    file = attachment.file
    ctx.session.delete(attachment)
    ctx.session.flush()
    if not _attachments(ctx.session, file.id):
        _remove(ctx.session, file)
    ctx.emit(events.{DetachedEvent},
             events.{DetachedEvent}Payload(attachment=data.attachment, by=ctx.actor.user_id))
    ctx.commit()


def {delete}(ctx: Context, data: schemas.{DeleteInput}) -> None:
    """Delete a file and its contents: allowed by the `delete` rule of every record it is
    attached to, or the File policy for a file attached to nothing."""
    row = _file(ctx, data.id)
    attachments = _attachments(ctx.session, row.id)
    if attachments:
        if not all(_may(ctx, a, "delete") for a in attachments):
            raise {RemoveNotAllowed}()
    elif not _policy_reads(ctx, row):
        raise {FileNotFound}()
    elif not _file_may_delete(ctx.actor, row):
        raise {RemoveNotAllowed}()
    _remove(ctx.session, row)
    ctx.emit(events.{DeletedEvent},
             events.{DeletedEvent}Payload(file=row.id, by=ctx.actor.user_id))
    ctx.commit()


def {create_document}(ctx: Context,
                      data: schemas.{CreateDocumentInput}) -> schemas.{DocumentRead}:
    """Start a document from a stored file the actor may view: the file is its version 1
    and its current one."""
    file = _viewable_stored(ctx, data.file)
    document = models.{Document}(title=data.title, current_id=file.id,
                                 created_by_id=ctx.actor.user_id)
    document.org_id = ctx.actor.org_id
    if not _document_may_create(ctx.actor, document):
        raise errors.Forbidden()
    ctx.session.add(document)
    ctx.session.flush()
    _add_version(ctx, document, file, 1, None)
    ctx.commit()
    return schemas.{DocumentRead}.from_row(document)


def {add_version}(ctx: Context,
                  data: schemas.{AddVersionInput}) -> schemas.{VersionRead}:
    """Add a stored file the actor may view as the next version of a document, which it
    becomes the current version of (the document is locked meanwhile on PostgreSQL, so two
    versions never get the same number)."""
    document = ctx.session.scalar(sa.select(models.{Document}).where(
        models.{Document}.id == data.document,
        policies.readable(models.{Document}, ctx.actor)).with_for_update())
    if document is None:
        raise {DocumentNotFound}()
    if not _document_may_update(ctx.actor, document):
        raise errors.Forbidden()
    file = _viewable_stored(ctx, data.file)
    last = ctx.session.scalar(sa.select(sa.func.max(models.{Version}.number)).where(
        models.{Version}.document_id == document.id))
    version = _add_version(ctx, document, file, (last or 0) + 1, data.note)
    document.current_id = file.id
    ctx.commit()
    return schemas.{VersionRead}.from_row(version)


def _add_version(ctx: Context, document: models.{Document}, file: models.{File}, number: int,
                 note: str | None) -> models.{Version}:
    version = models.{Version}(document_id=document.id, file_id=file.id, number=number,
                               note=note)
    version.org_id = ctx.actor.org_id
    if not _version_may_create(ctx.actor, version):
        raise errors.Forbidden()
    ctx.session.add(version)
    ctx.session.flush()
    return version


def {purge_job}(ctx: JobContext, data: {PurgeInput}) -> None:
    """Retention: delete the contents of files past their `expiresAt` and of uploads never
    completed within `PENDING_TTL`; their records stay, `deleted`."""
    now = _now()
    status = models.{File}.status
    expired = sa.or_(
        sa.and_(status.in_([enums.{FileStatus}.stored, enums.{FileStatus}.pending]),
                models.{File}.expires_at <= now),
        sa.and_(status == enums.{FileStatus}.pending,
                models.{File}.created_at <= now - PENDING_TTL))
    for row in ctx.session.scalars(sa.select(models.{File}).where(expired)).all():
        _remove(ctx.session, row)


def {scan_job}(ctx: JobContext, data: {ScanInput}) -> None:
    """Check a stored file's contents again (present, with the same SHA-256); reject it
    when they are not, deleting what is left (`file.rejected`)."""
    row = ctx.session.get(models.{File}, data.file)
    if row is None or row.status != enums.{FileStatus}.stored:
        return
    digest = hashlib.sha256()
    try:
        for chunk in storage().get(row.location):
            digest.update(chunk)
    except FileNotFoundError:
        reason = "the contents are missing"
    else:
        reason = "" if digest.hexdigest() == row.checksum else "the contents changed"
    if not reason:
        return
    _remove(ctx.session, row)
    row.status = enums.{FileStatus}.rejected
    payload = events.{RejectedEvent}Payload(file=row.id, reason=reason)
    outbox.emit(ctx.session, None, events.{RejectedEvent}, payload, org_id=row.org_id)
'''
