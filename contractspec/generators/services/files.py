"""The `files` service provider: uploads, downloads, attachments, documents and retention.

Generates `<app>/services/files.py` (the operations `startUpload`, `completeUpload`,
`getDownloadUrl`, `listAttachments`, `detachFile`, `deleteFile`, `createDocument`,
`addDocumentVersion` and the jobs `scanFile` and `purgeExpiredFiles`, with one `Attachable`
per `attachments on` declaration whose rules are compiled like the entities' policies),
`<app>/services/files_routes.py` (the raw-body content upload and the signed download),
`<app>/files/storage.py` (the `Storage` protocol, local by default) and
`<app>/files/content.py` (names, media types, content signatures).
"""

from __future__ import annotations

from typing import Any, ClassVar

from contractspec.generators.api.access import EntityAccess, Unsupported, render
from contractspec.generators.api.openapi import error_responses
from contractspec.generators.base import GeneratorError
from contractspec.generators.db.naming import py_str, snake
from contractspec.generators.events.shapes import build_catalog
from contractspec.generators.services import files_static as static
from contractspec.generators.services.base import ServiceInput, ServiceProvider
from contractspec.generators.services.common import job_names
from contractspec.ir import nodes as ir

MODULE = "files"
OPERATIONS = ("startUpload", "completeUpload", "getDownloadUrl", "listAttachments",
              "detachFile", "deleteFile", "createDocument", "addDocumentVersion")
EVENTS = {"StartedEvent": "file.upload_started", "UploadedEvent": "file.uploaded",
          "DetachedEvent": "file.detached", "DeletedEvent": "file.deleted",
          "RejectedEvent": "file.rejected"}
ERRORS = ("NotAttachable", "UploadNotAllowed", "KindNotAllowed", "TooLarge", "FileNotFound",
          "NotPending", "Mismatch", "ViewNotAllowed", "AttachmentNotFound", "RemoveNotAllowed",
          "DocumentNotFound")
_KEYS = {"uuid.UUID": "uuid.UUID", "int": "int", "str": "str"}


class FilesProvider(ServiceProvider):
    module: ClassVar[str] = MODULE
    operations: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (name, "v1") for name in OPERATIONS)

    def files(self, given: ServiceInput) -> dict[str, str]:
        ops = {name: given.operation(MODULE, name) for name in OPERATIONS}
        names = {
            "app": given.app, "File": given.orm(MODULE, "File"),
            "Attachment": given.orm(MODULE, "Attachment"),
            "Document": given.orm(MODULE, "Document"),
            "Version": given.orm(MODULE, "DocumentVersion"),
            "DocumentRead": ops["createDocument"].output.py,
            "VersionRead": ops["addDocumentVersion"].output.py,
            "CreateDocumentInput": ops["createDocument"].input.name,
            "AddVersionInput": ops["addDocumentVersion"].input.name,
            "create_document": ops["createDocument"].function,
            "add_version": ops["addDocumentVersion"].function,
            "FileStatus": given.enum(MODULE, "FileStatus"),
            "StorageProvider": given.enum(MODULE, "StorageProvider"),
            "FileRead": ops["startUpload"].output.py,
            "AttachmentPage": ops["listAttachments"].output.py,
            "AttachmentRead": ops["listAttachments"].output.py.removesuffix("Page"),
            "StartInput": ops["startUpload"].input.name,
            "CompleteInput": ops["completeUpload"].input.name,
            "DownloadInput": ops["getDownloadUrl"].input.name,
            "ListAttachmentsInput": ops["listAttachments"].input.name,
            "DetachInput": ops["detachFile"].input.name,
            "DeleteInput": ops["deleteFile"].input.name,
            "start": ops["startUpload"].function, "complete": ops["completeUpload"].function,
            "download": ops["getDownloadUrl"].function,
            "list_attachments": ops["listAttachments"].function,
            "detach": ops["detachFile"].function, "delete": ops["deleteFile"].function,
        }
        names["PurgeInput"], names["purge_job"] = job_names(given, MODULE, "purgeExpiredFiles")
        names["ScanInput"], names["scan_job"] = job_names(given, MODULE, "scanFile")
        classes = {e.code: e.class_name for op in ops.values() for e in op.errors}
        for code in ERRORS:
            if code not in classes:
                raise GeneratorError(f"the `files` operations lack the error `{code}`")
            names[code] = f"errors.{classes[code]}"
        catalog = build_catalog(given.program)
        events = {(e.module, e.decl.name): e.class_name for e in catalog.events}
        for placeholder, event in EVENTS.items():
            names[placeholder] = events[(MODULE, event)]
        service = _fill(static.SERVICE, names).replace("{rules}", _rules(given)) \
            + _fill(static.SERVICE_OPS, names)
        return {
            "services/files.py": given.top + service,
            "services/files_routes.py": given.top + _fill(static.ROUTES, {
                **names, "content_errors": _literal(_content_errors(given)),
                "download_errors": _literal(DOWNLOAD_ERRORS)}),
            "files/__init__.py": given.top + '"""File contents: storage and checks."""\n',
            "files/storage.py": given.top + static.STORAGE,
            "files/content.py": given.top + static.CONTENT,
        }

    def paths(self, given: ServiceInput) -> dict[str, Any]:
        """The content upload and the signed download, as FastAPI documents them."""
        binary = {"schema": {"type": "string", "format": "binary"}}
        put: dict[str, Any] = {
            "tags": [MODULE], "summary": "the contents of an upload",
            "description": "The contents of an upload announced with `startUpload`, by its "
                           "owner.",
            "operationId": "put_file_content",
            "parameters": [{"name": "file_id", "in": "path", "required": True,
                            "schema": {"type": "string", "format": "uuid",
                                       "title": "File Id"}}],
            "requestBody": {"required": True,
                            "content": {"application/octet-stream": binary}},
            "responses": {"200": {"description": "Successful Response", "content": {
                "application/json": {"schema": given.operation(
                    MODULE, "startUpload").output.schema}}},
                **error_responses(_content_errors(given))},
            "security": [{"HTTPBearer": []}]}
        download: dict[str, Any] = {
            "tags": [MODULE], "summary": "a file's contents, by a signed link",
            "description": "The contents behind a link of `getDownloadUrl` (local storage).",
            "operationId": "download_file",
            "parameters": [{"name": name, "in": "query", "required": True,
                            "schema": {"type": "string", "title": name.title()}}
                           for name in ("key", "name", "type", "expires", "signature")],
            "responses": {"200": {"description": "The file's contents, as its media type.",
                                  "content": {"application/octet-stream": binary}},
                          **error_responses(DOWNLOAD_ERRORS)}}
        return {"/v1/files/{file_id}/content": {"put": put},
                "/v1/files/download": {"get": download}}


DOWNLOAD_ERRORS = {403: "This link is not valid, or it has expired.", 404: "Not found.",
                   422: "Invalid input."}


def _content_errors(given: ServiceInput) -> dict[int, str]:
    """The error responses of the content upload: status -> description."""
    messages = {e.code: e.message for name in OPERATIONS
                for e in given.operation(MODULE, name).errors}
    return {401: "No valid bearer token.", 403: messages["UploadNotAllowed"],
            404: messages["FileNotFound"], 409: messages["NotPending"],
            413: messages["TooLarge"], 415: messages["KindNotAllowed"],
            422: "Invalid input, or the body is not the announced size."}



def _literal(statuses: dict[int, str]) -> str:
    """`statuses` as a dict display, one entry per line, for the routes module."""
    lines = "".join(f"    {status}: {py_str(text)},\n" for status, text in statuses.items())
    return "{\n" + lines + "}"


def _fill(template: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        template = template.replace("{" + key + "}", value)
    return template


def _rules(given: ServiceInput) -> str:
    """The rule functions and `ATTACHABLE`, from the policies and `attachments` declarations."""
    blocks = [_function("_file_may_delete", given.entity_access(MODULE, "File"), "delete",
                        given),
              _function("_attachment_may_delete", given.entity_access(MODULE, "Attachment"),
                        "delete", given),
              _function("_document_may_create", given.entity_access(MODULE, "Document"),
                        "create", given),
              _function("_document_may_update", given.entity_access(MODULE, "Document"),
                        "update", given),
              _function("_version_may_create", given.entity_access(MODULE, "DocumentVersion"),
                        "create", given)]
    entries: list[str] = []
    limits = ["DEFAULT_MAX_SIZE"]
    for module in given.program.modules:
        for decl in module.attachments:
            sym = given.symbols.lookup(module.name, decl.entity.name, "type",
                                       frozenset({"entity"})).symbol
            if sym is None:
                continue
            access = given.entity_access(sym.module, sym.name)
            stem = access.prefix
            rules: dict[str, str] = {}
            for rule in decl.rules:
                name = f"_{stem}_{snake(rule.action.name)}"
                blocks.append(_compile(name, access, rule.rule, given))
                rules[rule.action.name] = name
            key = _KEYS.get(access.table.key.py_type, "str")
            size = str(decl.max_size.bytes) if decl.max_size is not None else "None"
            if decl.max_size is not None:
                limits.append(size)
            retention = f"datetime.timedelta(seconds={decl.retention.seconds!r})" \
                if decl.retention is not None else "None"
            kinds = "(" + ", ".join(py_str(k) for k in decl.kinds) + \
                ("," if len(decl.kinds) == 1 else "") + ")"
            entries.append(
                f"    {py_str(sym.qualified)}: Attachable(\n"
                f"        models.{access.table.class_name}, {key}, {kinds}, {size},\n"
                f"        {retention},\n"
                f"        {rules.get('upload', 'None')}, {rules.get('view', 'None')}, "
                f"{rules.get('delete', 'None')}),")
    table = "ATTACHABLE: dict[str, Attachable] = {" + (
        "\n" + "\n".join(entries) + "\n}" if entries else "}")
    limit = f"LIMIT = max({', '.join(limits)})  # the largest upload any declaration accepts"
    return "\n" + "\n\n".join(blocks) + "\n\n# `attachments on` declarations, by entity.\n" \
        + table + "\n" + limit


def _function(name: str, access: EntityAccess, action: str, given: ServiceInput) -> str:
    rule = access.rules.get(action)
    if rule is None:
        return (f"def {name}(actor: Actor, row: models.{access.table.class_name}) -> bool:\n"
                f'    """No `{action}` rule: the operation\'s policy decides."""\n'
                "    return True\n")
    return _compile(name, access, rule, given)


def _compile(name: str, access: EntityAccess, rule: ir.Expr, given: ServiceInput) -> str:
    try:
        cond = given.access.python(rule, access)
    except Unsupported as error:
        raise GeneratorError(f"`{name.strip('_')}`: {error}") from error
    text = render(cond, False, "    ", len("return "))
    doc = given.access.describe(rule).replace('"""', "'''")
    return (f"def {name}(actor: Actor, row: models.{access.table.class_name}) -> bool:\n"
            f'    """`{doc}`."""\n'
            f"    return {text}\n")
