"""`make docs` inside the suite: the site builds with warnings as errors, renders the API's OpenAPI
document, and needs nothing from the network (no CDN, no web fonts, no diagram script)."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# <script src=...> and <link href=...> that leave the site: an absolute or protocol-relative URL.
EXTERNAL_ASSET = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:[a-z]+:)?//[^"]*"')


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def test_the_site_builds_with_warnings_as_errors(site):
    assert (site / "index.html").is_file()


def test_every_page_loads_its_assets_from_the_site_itself(site):
    pages = list(site.rglob("*.html"))
    external = {str(page.relative_to(site)): EXTERNAL_ASSET.findall(page.read_text()) for page in pages}
    assert pages and {page: found for page, found in external.items() if found} == {}
    assert not [page for page in pages if 'class="mermaid"' in page.read_text()]  # would fetch mermaid.js


def test_the_api_reference_renders_every_operation_of_the_openapi_document(site):
    spec = importlib.util.spec_from_file_location("openapi_page", ROOT / "docs" / "hooks" / "openapi_page.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    document = hook.openapi_document()
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in hook.METHODS
    ]
    page = (site / "api" / "index.html").read_text()
    assert "createTransaction" in ids and [name for name in ids if f'id="{name.lower()}"' not in page] == []
