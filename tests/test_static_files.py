"""Static files: content-hashed names in the pages, compressed bodies (gzip, brotli) that decode to
the file, and a year-long immutable cache, served by the app itself (webapp/static_files.py)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from webapp.static_files import build_static

STATIC = Path(__file__).resolve().parent.parent / "webapp" / "static"


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


@pytest.fixture
def page_assets(client):
    urls = static_urls(client.get("/login").text)
    assert len(urls) == 5  # the favicon, Pico, app.css, htmx, app.js
    return urls


def original(url: str) -> bytes:
    """The file under webapp/static a hashed URL stands for."""
    path, _, ext = url.removeprefix("/static/").rpartition(".")
    stem, _, digest = path.rpartition(".")
    assert re.fullmatch(r"[0-9a-f]{12}", digest), url
    return (STATIC / f"{stem}.{ext}").read_bytes()


def test_pages_name_static_files_by_their_content(page_assets):
    names = [url.rsplit("/", 1)[-1] for url in page_assets]
    assert any(re.fullmatch(r"app\.[0-9a-f]{12}\.css", n) for n in names)
    assert any(re.fullmatch(r"htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js", n) for n in names)


def test_static_files_are_cached_for_a_year_and_immutable(client, page_assets):
    for url in page_assets:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == original(url)


@pytest.mark.parametrize(("accept", "encoding", "decode"), [
    ("gzip", "gzip", gzip.decompress),
    ("gzip, deflate, br", "br", brotli.decompress),
    ("br", "br", brotli.decompress),
])
def test_compressed_bodies_decode_to_the_file(client, page_assets, accept, encoding, decode):
    for url in page_assets:
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.headers["Content-Encoding"] == encoding, url
        assert "Accept-Encoding" in response.headers["Vary"]
        assert len(response.data) < len(original(url))
        assert decode(response.data) == original(url)


def test_without_accept_encoding_the_file_comes_as_is(client, page_assets):
    response = client.get(page_assets[0], headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert response.data == original(page_assets[0])


def test_the_plain_name_still_answers(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "app.css").read_bytes()
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_a_changed_file_gets_a_new_name_and_a_build_is_made_once(tmp_path):
    source = tmp_path / "static"
    source.mkdir()
    (source / "site.css").write_text("body { color: black }\n" * 50)
    first, manifest = build_static(source, tmp_path / "builds")
    again, same = build_static(source, tmp_path / "builds")
    assert (again, same) == (first, manifest)
    assert gzip.decompress((first / (manifest["site.css"] + ".gz")).read_bytes()) == (source / "site.css").read_bytes()
    (source / "site.css").write_text("body { color: navy }\n" * 50)
    changed, new_manifest = build_static(source, tmp_path / "builds")
    assert changed != first
    assert new_manifest["site.css"] != manifest["site.css"]
    assert (changed / new_manifest["site.css"]).read_text().startswith("body { color: navy }")


def test_without_a_writable_build_directory_the_portal_still_serves_them(database_url, tmp_path):
    from tests.conftest import test_config
    from webapp import create_app

    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    app = create_app(test_config(database_url, STATIC_BUILD_DIR=str(blocked / "static")))
    client = app.test_client()
    urls = static_urls(client.get("/login").text)
    assert "/static/app.css" in urls  # plain names, served by Flask
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "app.css").read_bytes()
