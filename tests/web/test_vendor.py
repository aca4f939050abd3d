"""Front-end libraries served from node_modules (asm/web/views.py VENDOR_FILES): only the listed files, with the
right types; zxing-wasm keeps its layout (its module imports ../share.js) and its .wasm is served as such."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from asm.web.views import VENDOR_FILES


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [
        ("htmx.min.js", "text/javascript"),
        ("zxing-wasm/es/reader/index.js", "text/javascript"),
        ("zxing-wasm/es/share.js", "text/javascript"),
        ("zxing-wasm/reader/zxing_reader.wasm", "application/wasm"),
    ],
)
def test_listed_files_are_served(client: FlaskClient, name: str, mimetype: str) -> None:
    assert name in VENDOR_FILES
    answer = client.get(f"/vendor/{name}")
    assert answer.status_code == 200, name
    assert answer.mimetype == mimetype
    assert answer.content_length and answer.content_length > 1000
    answer.close()


def test_the_reader_module_finds_its_neighbour(client: FlaskClient) -> None:
    module = client.get("/vendor/zxing-wasm/es/reader/index.js")
    assert 'from "../share.js"' in module.get_data(as_text=True)  # /vendor/zxing-wasm/es/share.js, listed above
    module.close()
    wasm = client.get("/vendor/zxing-wasm/reader/zxing_reader.wasm")
    assert wasm.get_data()[:4] == b"\0asm"
    wasm.close()


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/zxing-wasm/package.json",
        "/vendor/zxing-wasm/dist/full/zxing_full.wasm",
        "/vendor/../package.json",
        "/vendor/zxing-wasm/es/../../../package.json",
        "/vendor/%2e%2e/pyproject.toml",
    ],
)
def test_anything_else_is_404(client: FlaskClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    answer.close()
