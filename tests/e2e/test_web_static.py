"""What the gateway serves besides the API: the web app at /, its pages on reload, the API
reference at /docs, and a JSON 404 for anything else, with the API routes untouched."""

from __future__ import annotations

import re

from scripts.gateway import WEB_ROOT
from tests.e2e.support.rest import Gateway, body

HTML = "text/html"


def test_root_is_the_built_app(gateway: Gateway) -> None:
    response = gateway.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith(HTML)
    assert response.text == (WEB_ROOT / "index.html").read_text()
    script = re.search(r'src="(/assets/[^"]+\.js)"', response.text)
    assert script, response.text
    asset = gateway.get(script.group(1))
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")
    assert asset.content == (WEB_ROOT / script.group(1).lstrip("/")).read_bytes()


def test_every_built_file_is_served(gateway: Gateway) -> None:
    built = sorted(p.relative_to(WEB_ROOT).as_posix() for p in WEB_ROOT.rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    for name in built:
        path = "/" + name.removesuffix("index.html")
        response = gateway.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} (add its route to gateway/envoy.yaml)"
        assert response.content == (WEB_ROOT / name).read_bytes(), (
            f"{path}: the gateway serves another build (Envoy reads the files when it starts: restart the stack)")


def test_an_app_page_opened_in_a_browser_gets_the_app(gateway: Gateway) -> None:
    path = "/videos/6d1c1d36-5d43-4e0f-9a39-2a4f7e9f3b11"
    opened = gateway.http.get(path, headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert opened.status_code == 200 and opened.headers["content-type"].startswith(HTML)
    assert opened.text == (WEB_ROOT / "index.html").read_text()


def test_docs_page_loads_swagger_ui_from_the_gateway(gateway: Gateway) -> None:
    for path in ("/docs", "/docs/"):
        page = gateway.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith(HTML)
        assert 'url: "/api/openapi.json"' in page.text
        assert "http" not in page.text.split("<body>")[1], "nothing from another site"
    bundle = gateway.get("/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 1_000_000


def test_other_paths_are_a_json_404_and_the_api_still_answers(gateway: Gateway) -> None:
    missing = gateway.get("/no/such/file.png")
    assert missing.status_code == 404
    assert body(missing)["code"] == 5
    unknown_api = gateway.get("/api/web/v1/no-such-route")
    assert unknown_api.status_code == 404  # the transcoder still rejects unknown methods
    assert gateway.get("/api/web/v1/home").status_code == 200
