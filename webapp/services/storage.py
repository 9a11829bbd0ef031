"""Media storage: audio and other files addressed by a relative key under ``MEDIA_ROOT``.

The database keeps only keys. Keys are generated here (``new_key``) or chosen by callers from
safe parts; a key can never point outside the media root.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app


class StorageError(Exception):
    pass


def root() -> Path:
    return Path(current_app.config["MEDIA_ROOT"])


def path_for(key: str) -> Path:
    """The file of ``key``; refuses keys that would leave the media root."""
    base = root().resolve()
    path = (base / key).resolve()
    if base != path and base not in path.parents:
        raise StorageError(f"key outside media root: {key!r}")
    return path


def new_key(prefix: str, suffix: str) -> str:
    return f"{prefix.strip('/')}/{secrets.token_hex(12)}{suffix}"


def save(key: str, data: bytes) -> str:
    """Write ``data`` atomically (temporary file + rename) and return the key."""
    path = path_for(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return key


def exists(key: str | None) -> bool:
    return bool(key) and path_for(key).is_file()


def read(key: str) -> bytes:
    try:
        return path_for(key).read_bytes()
    except FileNotFoundError as exc:
        raise StorageError(f"missing file: {key!r}") from exc


def delete(key: str | None) -> None:
    if not key:
        return
    path_for(key).unlink(missing_ok=True)


def delete_prefix(prefix: str) -> None:
    """Remove every file under ``prefix`` (e.g. all media of one profile)."""
    import shutil

    path = path_for(prefix)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
