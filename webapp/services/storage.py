"""Media storage: audio, faxes and other files addressed by a relative key.

The database keeps only keys. Keys are generated here (``new_key``) or chosen by callers from
safe parts; a key can never point outside the store. Two backends, chosen by configuration:

- the local folder ``MEDIA_ROOT`` (default, ``MEDIA_STORAGE=local``);
- S3-compatible object storage (``MEDIA_STORAGE=s3``: AWS S3, MinIO, Ceph …) through boto3,
  configured by ``MEDIA_S3_BUCKET``, ``MEDIA_S3_PREFIX``, ``MEDIA_S3_ENDPOINT_URL`` and the usual
  AWS environment (``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``, …).

Writes that belong to a database row go through ``stage(session, key, data)``: the bytes are
written under a temporary name at once (so a full disk or an unreachable store refuses the change
before anything commits) and moved to ``key`` only after the session's transaction commits; a
rollback removes them. A process killed in between leaves only a temporary, which the periodic
sweep removes (or, when its row did commit, moves into place). Derived files (MP3 copies,
thumbnails) are written with ``save``: they can always be made again.

Playback and downloads are served through the portal (``serve``), for both backends, after the
route has checked the caller's authorisation: the object store need not be reachable from
browsers, the Content-Security-Policy stays ``'self'``, every play is seen (and audited) by the
portal, and no URL outlives the check. Voice files are small, so the extra hop costs little.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import hashlib
import io
import logging
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from .errors import DomainError

log = logging.getLogger(__name__)

STAGING = ".staging"  # temporaries live under this key prefix, never a caller's key
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,200}(/[A-Za-z0-9_][A-Za-z0-9._-]{0,200}){0,15}")
CHUNK = 64 * 1024


class StorageError(Exception):
    """A key that names nothing (missing file) or could never be valid."""


class StorageUnavailable(DomainError):
    """The store refuses writes or cannot be reached: said to the user, nothing is stored."""

    status = 503


def _unwritable() -> StorageUnavailable:
    return StorageUnavailable(_l("The file could not be stored: the media storage is full or not writable. "
                                 "Nothing was saved. Please try again later or tell the operator."))


def _unreachable() -> StorageUnavailable:
    return StorageUnavailable(_l("The media storage cannot be reached at the moment. Nothing was saved. "
                                 "Please try again in a few minutes."))


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise StorageError(f"invalid media key: {key!r}")
    return key


def new_key(prefix: str, suffix: str) -> str:
    return f"{prefix.strip('/')}/{secrets.token_hex(12)}{suffix}"


@dataclass
class Entry:
    key: str
    size: int
    modified: datetime


# --- backends ---------------------------------------------------------------------------------


class LocalBackend:
    """Files below a folder; writes land under a temporary name and are renamed into place."""

    name = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        base = self.root.resolve()
        path = (base / key).resolve()
        if base != path and base not in path.parents:
            raise StorageError(f"key outside media root: {key!r}")
        return path

    def put(self, key: str, data: bytes | IO[bytes], metadata: dict[str, str] | None = None) -> None:
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
            try:
                with builtins.open(tmp, "wb") as out:
                    if isinstance(data, bytes | bytearray | memoryview):
                        out.write(data)
                    else:
                        while chunk := data.read(CHUNK):
                            out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.error("media storage: cannot write %s: %s", key, exc)
            raise _unwritable() from exc

    def move(self, source: str, target: str) -> None:
        dest = self.path(target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(source), dest)

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StorageError(f"missing file: {key!r}") from exc

    def open(self, key: str) -> IO[bytes]:
        try:
            return builtins.open(self.path(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StorageError(f"missing file: {key!r}") from exc

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except OSError:
            return False

    def delete(self, key: str) -> None:
        with contextlib.suppress(IsADirectoryError, NotADirectoryError):
            self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        import shutil

        path = self.path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)

    def list(self, prefix: str = "") -> Iterator[Entry]:
        base = self.root.resolve()
        start = self.path(prefix) if prefix else base
        if prefix and not prefix.endswith("/") and not start.is_dir():  # a prefix of file names
            if start.parent.is_dir():
                for child in start.parent.iterdir():
                    if child.name.startswith(start.name) and child.is_file():
                        stat = child.stat()
                        yield Entry(child.relative_to(base).as_posix(), stat.st_size,
                                    datetime.fromtimestamp(stat.st_mtime, UTC))
            return
        if not start.is_dir():
            return
        for dirpath, _dirs, files in os.walk(start):
            for name in files:
                full = Path(dirpath) / name
                try:
                    stat = full.stat()
                except FileNotFoundError:
                    continue
                yield Entry(full.relative_to(base).as_posix(), stat.st_size,
                            datetime.fromtimestamp(stat.st_mtime, UTC))

    def check(self) -> None:
        """Raise unless the folder is there and writable (for /readyz)."""
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f".ready-{secrets.token_hex(4)}"
        try:
            probe.write_bytes(b"1")  # a byte, not an empty file: a full disk refuses it
        finally:
            probe.unlink(missing_ok=True)

    def serve(self, key: str, mimetype: str, **kwargs: Any):
        from flask import send_file

        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"missing file: {key!r}")
        return send_file(path, mimetype=mimetype, **kwargs)


class _S3Reader(io.RawIOBase):
    """A seekable read-only view of one object: every read after a seek is a ranged GET that
    streams from there, so werkzeug's Range handling fetches only the bytes it sends."""

    def __init__(self, backend: S3Backend, key: str, size: int):
        self.backend, self.key, self.size = backend, key, size
        self.pos = 0
        self.body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        new = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        if new != self.pos:
            self._close_body()
            self.pos = max(0, new)
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size:
            return 0
        if self.body is None:
            self.body = self.backend._get(self.key, f"bytes={self.pos}-")["Body"]
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def _close_body(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        self._close_body()
        super().close()


@functools.lru_cache(maxsize=16)
def _s3_client(endpoint_url: str | None, region: str | None, timeout: float):
    """One client per endpoint and process (boto3 clients are thread-safe and slow to make)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region,
        config=Config(connect_timeout=timeout, read_timeout=max(timeout, 30.0),
                      retries={"max_attempts": 2, "mode": "standard"},
                      s3={"addressing_style": "path"}),
    )


class S3Backend:
    """Objects in one bucket below a prefix. A PUT is atomic (readers see all or nothing)."""

    name = "s3"

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, timeout: float = 5.0):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = _s3_client(endpoint_url or None, region or None, timeout)

    def _k(self, key: str) -> str:
        return self.prefix + key

    def _call(self, what: str, fn, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"404", "NoSuchKey", "NotFound"}:
                raise StorageError(f"missing object: {args or kwargs}") from exc
            log.error("media storage (s3) %s failed: %s", what, exc)
            raise _unreachable() from exc
        except BotoCoreError as exc:
            log.error("media storage (s3) %s failed: %s", what, exc)
            raise _unreachable() from exc

    def _get(self, key: str, byte_range: str | None = None) -> dict:
        kwargs = {"Bucket": self.bucket, "Key": self._k(key)}
        if byte_range:
            kwargs["Range"] = byte_range
        return self._call("get", self.client.get_object, **kwargs)

    def _head(self, key: str) -> dict:
        return self._call("head", self.client.head_object, Bucket=self.bucket, Key=self._k(key))

    def put(self, key: str, data: bytes | IO[bytes], metadata: dict[str, str] | None = None) -> None:
        body = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.read()
        self._call("put", self.client.put_object, Bucket=self.bucket, Key=self._k(key), Body=body,
                   Metadata=metadata or {})

    def move(self, source: str, target: str) -> None:
        self._call("copy", self.client.copy_object, Bucket=self.bucket, Key=self._k(target),
                   CopySource={"Bucket": self.bucket, "Key": self._k(source)})
        self.delete(source)

    def read(self, key: str) -> bytes:
        return self._get(key)["Body"].read()

    def open(self, key: str) -> IO[bytes]:
        size = self._head(key)["ContentLength"]
        return io.BufferedReader(_S3Reader(self, key, size), buffer_size=CHUNK)

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except StorageError:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete", self.client.delete_object, Bucket=self.bucket, Key=self._k(key))

    def delete_prefix(self, prefix: str) -> None:
        batch: list[dict] = []
        for entry in self.list(prefix.rstrip("/") + "/"):
            batch.append({"Key": self._k(entry.key)})
            if len(batch) == 1000:
                self._call("delete", self.client.delete_objects, Bucket=self.bucket, Delete={"Objects": batch})
                batch = []
        if batch:
            self._call("delete", self.client.delete_objects, Bucket=self.bucket, Delete={"Objects": batch})

    def list(self, prefix: str = "") -> Iterator[Entry]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = iter(paginator.paginate(Bucket=self.bucket, Prefix=self._k(prefix)))
        while True:
            page = self._call("list", next, pages, None)
            if page is None:
                return
            for obj in page.get("Contents", []):
                yield Entry(obj["Key"][len(self.prefix):], obj["Size"], obj["LastModified"])

    def metadata(self, key: str) -> dict:
        return self._head(key)

    def check(self) -> None:
        self._call("head bucket", self.client.head_bucket, Bucket=self.bucket)

    def serve(self, key: str, mimetype: str, *, download_name: str | None = None,
              as_attachment: bool = False, conditional: bool = True, max_age: int | None = None):
        from flask import request, send_file

        head = self._head(key)
        size = head["ContentLength"]
        reader = io.BufferedReader(_S3Reader(self, key, size), buffer_size=CHUNK)
        response = send_file(reader, mimetype=mimetype, download_name=download_name or key.rsplit("/", 1)[-1],
                             as_attachment=as_attachment, conditional=False, etag=False, max_age=max_age)
        response.content_length = size
        response.set_etag(head.get("ETag", "").strip('"') or hashlib.sha256(key.encode()).hexdigest())
        if head.get("LastModified"):
            response.last_modified = head["LastModified"]
        if conditional:
            response = response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
        return response


# --- the configured backend -------------------------------------------------------------------


def backend_from_config(config) -> LocalBackend | S3Backend:
    kind = (config.get("MEDIA_STORAGE") or "local").lower()
    if kind == "s3":
        if not config.get("MEDIA_S3_BUCKET"):
            raise RuntimeError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET")
        return S3Backend(config["MEDIA_S3_BUCKET"], config.get("MEDIA_S3_PREFIX") or "",
                         config.get("MEDIA_S3_ENDPOINT_URL"), config.get("MEDIA_S3_REGION"),
                         float(config.get("MEDIA_S3_TIMEOUT") or 5))
    return LocalBackend(config["MEDIA_ROOT"])


def backend() -> LocalBackend | S3Backend:
    """The app's backend, made once per app (boto3 clients are thread-safe)."""
    app = current_app
    cached = app.extensions.get("media_storage")
    if cached is None:
        cached = app.extensions["media_storage"] = backend_from_config(app.config)
    return cached


def root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def path_for(key: str) -> Path:
    """Deprecated (local folder only): new code uses ``open``/``read``/``serve``."""
    return LocalBackend(root()).path(key)


# --- module-level interface (callers use these) ------------------------------------------------


def save(key: str, data: bytes | IO[bytes]) -> str:
    """Write ``data`` to ``key`` now, atomically (readers see all or nothing); for derived files
    and data without a row. Raises ``StorageUnavailable`` when the store refuses it."""
    backend().put(check_key(key), data)
    return key


def exists(key: str | None) -> bool:
    if not key:
        return False
    try:
        store = backend()
        return store.exists(check_key(key)) or _recover(store, key)
    except StorageError:
        return False


def _recovering(fn):
    """Run ``fn(store, key)``; when the file is missing, finish an interrupted move and retry."""

    def run(key: str, *args, **kwargs):
        store = backend()
        check_key(key)
        try:
            return fn(store, key, *args, **kwargs)
        except StorageError:
            if not _recover(store, key):
                raise
            return fn(store, key, *args, **kwargs)

    return run


@_recovering
def _read(store, key: str) -> bytes:
    return store.read(key)


@_recovering
def _open(store, key: str) -> IO[bytes]:
    return store.open(key)


def read(key: str) -> bytes:
    return _read(key)


def open(key: str) -> IO[bytes]:  # noqa: A001 - the storage's own open
    """A readable (and seekable) stream of ``key``; close it after use."""
    return _open(key)


def delete(key: str | None) -> None:
    if not key:
        return
    try:
        backend().delete(check_key(key))
    except StorageUnavailable:
        log.warning("media storage: could not delete %s now; the sweep will", key)


def delete_prefix(prefix: str) -> None:
    """Remove every file under ``prefix`` (e.g. all media of one profile)."""
    try:
        backend().delete_prefix(check_key(prefix.rstrip("/")))
    except StorageUnavailable:
        log.warning("media storage: could not delete %s/ now; the sweep will", prefix)


def serve(key: str, mimetype: str, *, download_name: str | None = None, as_attachment: bool = False,
          conditional: bool = True, max_age: int | None = None):
    """A response with the file of ``key`` that honours HTTP Range and conditional requests, for
    either backend. The route checks the caller's authorisation before calling this. Raises
    ``StorageError`` when the file is missing."""
    return _serve(key, mimetype, download_name=download_name, as_attachment=as_attachment,
                  conditional=conditional, max_age=max_age)


@_recovering
def _serve(store, key: str, mimetype: str, **kwargs):
    return store.serve(key, mimetype, **kwargs)


# --- atomic writes tied to a transaction -------------------------------------------------------

_STAGED = "media_staged"


def staging_key(key: str) -> str:
    return f"{STAGING}/{key}.{secrets.token_hex(6)}.tmp"


def final_key_of(staged: str) -> str | None:
    match = re.fullmatch(rf"{re.escape(STAGING)}/(.+)\.[0-9a-f]{{12}}\.tmp", staged)
    return match.group(1) if match else None


# Temporaries this process staged whose transaction has not ended: never taken for leftovers.
_PENDING: set[str] = set()


def _recover(store, key: str) -> bool:
    """A reader found a row whose file is missing: when its process died (or the store failed)
    between the row's commit and the move, the file is still under its temporary name. The row is
    committed (the reader sees it), so finishing the move is what that process would have done."""
    for entry in store.list(f"{STAGING}/{key}."):
        if final_key_of(entry.key) == key and entry.key not in _PENDING:
            with contextlib.suppress(StorageError, FileNotFoundError):  # another reader won
                store.move(entry.key, key)
                log.warning("media storage: finished the interrupted move of %s", key)
            return store.exists(key)
    return False


def stage(session: Session, key: str, data: bytes | IO[bytes]) -> str:
    """Write ``data`` for ``key`` under a temporary name now and move it to ``key`` once
    ``session`` commits; a rollback (of the transaction or savepoint it was staged in) removes
    it. Raises ``StorageUnavailable`` at once when the store refuses the bytes. Returns ``key``."""
    check_key(key)
    temp = staging_key(key)
    store = backend()
    store.put(temp, data)
    _PENDING.add(temp)
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_STAGED, []).append((temp, key, transaction, store))
    return key


def _discard(entries) -> None:
    for temp, _key, _txn, store in entries:
        _PENDING.discard(temp)
        try:
            store.delete(temp)
        except Exception:  # the sweep removes what is left
            log.warning("media storage: could not remove temporary %s; the sweep will", temp)


@event.listens_for(Session, "after_commit", insert=True)
def _publish_staged(session: Session) -> None:
    """Runs before the other after-commit work (jobs may read the file at once)."""
    if session.in_nested_transaction():
        return
    entries = session.info.pop(_STAGED, [])
    for temp, key, _txn, store in entries:
        _PENDING.discard(temp)
        try:
            store.move(temp, key)
        except Exception:
            # the row is committed: the sweep moves the temporary into place later
            log.exception("media storage: could not move %s into place; the sweep will retry", key)


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_staged(session: Session, previous_transaction) -> None:
    entries = session.info.get(_STAGED)
    if not entries:
        return
    gone = [e for e in entries if _within(e[2], previous_transaction)]
    if gone:
        session.info[_STAGED] = [e for e in entries if e not in gone]
        _discard(gone)


@event.listens_for(Session, "after_transaction_end")
def _end_staged(session: Session, transaction) -> None:
    if transaction.parent is None and not transaction.nested:
        leftover = session.info.pop(_STAGED, [])
        if leftover:  # closed without commit
            _discard(leftover)


# --- copying between stores ------------------------------------------------------------------


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def checksum(store: LocalBackend | S3Backend, key: str, *, trust_metadata: bool = True) -> str | None:
    """SHA-256 of ``key`` in ``store`` (None when missing); on S3 the one recorded at upload when
    ``trust_metadata``, else computed from the bytes."""
    if isinstance(store, S3Backend) and trust_metadata:
        try:
            recorded = store.metadata(key).get("Metadata", {}).get("sha256")
        except StorageError:
            return None
        if recorded:
            return recorded
    try:
        with store.open(key) as stream:
            return _sha256(stream)
    except StorageError:
        return None


@dataclass
class CopyResult:
    copied: int = 0
    present: int = 0
    failed: list[str] | None = None


def copy_all(source: LocalBackend | S3Backend, target: LocalBackend | S3Backend, *, verify_only: bool = False,
             progress=None) -> CopyResult:
    """Copy every file of ``source`` to ``target`` and verify it by reading it back; files the
    target already holds with the same SHA-256 are left alone, so an interrupted run resumes.
    Temporaries of unfinished writes are not copied. ``verify_only`` copies nothing and lists
    what is missing or differs."""
    result = CopyResult(failed=[])
    for entry in source.list():
        name = entry.key.rsplit("/", 1)[-1]
        if entry.key.startswith(STAGING + "/") or name.startswith("."):
            continue
        with source.open(entry.key) as stream:
            want = _sha256(stream)
        if checksum(target, entry.key) == want:
            result.present += 1
            continue
        if verify_only:
            result.failed.append(entry.key)
            continue
        try:
            with source.open(entry.key) as stream:
                target.put(entry.key, stream, metadata={"sha256": want})
            ok = checksum(target, entry.key, trust_metadata=False) == want
        except StorageUnavailable:
            ok = False
        if ok:
            result.copied += 1
        else:
            result.failed.append(entry.key)
        if progress:
            progress(entry.key, ok)
    return result


# --- sweep --------------------------------------------------------------------------------------

# Functions returning keys rows refer to, beyond the ``*_key`` columns found automatically.
REFERENCE_SOURCES: list = []
# Top-level key prefixes whose unreferenced files the sweep removes. An area adds its prefix once
# every key it stores is in a ``…_key`` column (or named by a REFERENCE_SOURCES function), so a
# file kept some other way is never taken for an orphan.
SWEPT_PREFIXES: set[str] = {"voicemail", "fax", "conference"}


def referenced_keys(session: Session) -> set[str]:
    """Every key a row refers to: all string columns named ``…_key`` of every model (fax pages,
    recordings and anything later are found without registration) plus ``REFERENCE_SOURCES``."""
    from sqlalchemy import String, select

    from ..models import Base

    keys: set[str] = set()
    for mapper in Base.registry.mappers:
        for column in mapper.columns:
            if column.key.endswith("_key") and isinstance(column.type, String) and column.table is not None:
                keys.update(k for k in session.scalars(select(column).where(column.is_not(None)).distinct()) if k)
    for source in REFERENCE_SOURCES:
        keys.update(source(session))
    return keys


def _stem(key: str) -> str:
    head, _, name = key.rpartition("/")
    return f"{head}/{name.split('.', 1)[0]}"


@dataclass
class SweepResult:
    orphans: int = 0
    temporaries: int = 0
    completed: int = 0


def sweep(session: Session, grace: timedelta | None = None, now: datetime | None = None) -> SweepResult:
    """Remove files no row refers to (below ``SWEPT_PREFIXES``) and temporaries left by
    interrupted writes, once older than ``grace`` (``MEDIA_SWEEP_GRACE_MINUTES``, default 60).
    Derived files (``<stem>.mp3`` next to ``<stem>.wav``) live as long as their source. A
    temporary whose row did commit (the process died between commit and move) is moved into
    place instead, whatever its age."""
    if grace is None:
        minutes = current_app.config.get("MEDIA_SWEEP_GRACE_MINUTES") if has_app_context() else None
        grace = timedelta(minutes=60 if minutes is None else int(minutes))
    cutoff = (now or datetime.now(UTC)) - grace
    store = backend()
    try:
        store.check()  # a folder that is not there (or not writable) is an error, not "nothing to sweep"
    except OSError as exc:
        raise _unwritable() from exc
    entries = list(store.list())  # before the rows: a file stored meanwhile is newer than the cutoff
    referenced = referenced_keys(session)
    stems = {_stem(k) for k in referenced}
    result = SweepResult()
    for entry in entries:
        staged = entry.key.startswith(STAGING + "/")
        final = final_key_of(entry.key) if staged else None
        if final and final in referenced and not store.exists(final):
            # its row committed but the move did not happen: finish it now, whatever its age
            with contextlib.suppress(StorageError, FileNotFoundError):  # the request's own move won
                store.move(entry.key, final)
                result.completed += 1
            continue
        if entry.modified > cutoff:
            continue
        if staged:
            store.delete(entry.key)
            result.temporaries += 1
        elif entry.key.rsplit("/", 1)[-1].startswith(".") and entry.key.endswith(".part"):
            store.delete(entry.key)  # a local write cut off before its rename
            result.temporaries += 1
        elif (entry.key.split("/", 1)[0] in SWEPT_PREFIXES and entry.key not in referenced
              and _stem(entry.key) not in stems):
            store.delete(entry.key)
            result.orphans += 1
    log.info("media sweep: %s orphans, %s temporaries removed, %s moved into place",
             result.orphans, result.temporaries, result.completed)
    return result
