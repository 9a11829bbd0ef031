"""Static files served by the app itself (WhiteNoise): content-hashed names, compressed with gzip
and brotli ahead of time, cached by browsers for a year.

At start-up every file of ``static/`` is copied into a build directory under the instance folder
as ``name.<hash>.ext`` (the first 12 hex digits of its SHA-256), next to its ``.gz`` and ``.br``;
the build is keyed by the content of all files, so it is made once per version and shared by
every worker and restart. ``url_for('static', filename='app.css')`` answers the hashed name, so
templates keep their references; WhiteNoise answers ``/static/app.<hash>.css`` with
``Cache-Control: max-age=31536000, immutable`` and the encoding the browser accepts. A file's
unhashed name keeps working through Flask's own static route (short cache), for links from
outside. Static files must not refer to each other by relative URL (none do): the hashes would
not be rewritten inside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

ONE_YEAR = 365 * 24 * 60 * 60
CACHE_CONTROL = f"max-age={ONE_YEAR}, immutable"
MANIFEST = "manifest.json"


def init_app(app: Flask) -> None:
    source = Path(app.static_folder)
    builds = Path(app.config.get("STATIC_BUILD_DIR") or Path(app.instance_path) / "static")
    try:
        build, manifest = build_static(source, builds)
    except OSError:  # a read-only or full disk must not keep the portal from starting
        app.logger.exception("static files: no build in %s; serving them uncompressed, briefly cached", builds)
        return
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def _hashed_static_name(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    prefix = (app.static_url_path or "/static").strip("/") + "/"
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=str(build), prefix=prefix,
                              add_headers_function=_headers, allow_all_origins=False)


def _headers(headers, _path: str, _url: str) -> None:
    headers["Cache-Control"] = CACHE_CONTROL  # every file WhiteNoise serves has a hashed name
    headers["X-Content-Type-Options"] = "nosniff"


def hashed_name(relative: str, content: bytes) -> str:
    stem, dot, ext = relative.rpartition(".")
    digest = hashlib.sha256(content).hexdigest()[:12]
    return f"{stem}.{digest}.{ext}" if dot and "/" not in ext else f"{relative}.{digest}"


def build_static(source: Path, builds: Path) -> tuple[Path, dict[str, str]]:
    """The build directory for the current files (made if missing) and the name manifest."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    contents = {p.relative_to(source).as_posix(): p.read_bytes() for p in files}
    version = hashlib.sha256()
    for name, content in contents.items():
        version.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    target = builds / version.hexdigest()[:16]
    if (target / MANIFEST).is_file():
        return target, json.loads((target / MANIFEST).read_text())
    builds.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=builds))
    try:
        manifest = {}
        compressor = Compressor(quiet=True)
        for name, content in contents.items():
            hashed = work / hashed_name(name, content)
            hashed.parent.mkdir(parents=True, exist_ok=True)
            hashed.write_bytes(content)
            if compressor.should_compress(hashed.name):
                compressor.compress(str(hashed))
            manifest[name] = hashed.relative_to(work).as_posix()
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        try:
            os.rename(work, target)  # atomic: another worker that got there first wins
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target, json.loads((target / MANIFEST).read_text())
