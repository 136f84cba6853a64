"""The edges of the API, over every route the service has (every path of docs/openapi.yaml, and
the page's): a method a path does not have is a 405 naming the ones it has (in `Allow` and in the
documented JSON error), and a path the service does not have is a 404 with the same JSON error,
never an empty page. "Every route" is checked against the routes callpark-http mounts.
"""

import re

import pytest
import requests
import yaml

from conftest import SPEC

RAW = yaml.safe_load(SPEC.read_text())
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Path parameters filled with values of the right shape: the method is refused before the
# parameters are looked at.
SAMPLES = {"slug": "demo", "slot": "1", "sid": "CA" + "0" * 32,
           "id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "attempt": "1", "identity": "nobody",
           "path": "app.css"}
# The routes of the page itself, which the API description leaves out: the page and its files.
PAGE_ROUTES = {"/": ["GET"], "/ui/{path}": ["GET"]}
HTTP_SRC = SPEC.parent.parent / "crates" / "callpark-http" / "src"


def concrete(template):
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], template)


def error_of(response):
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.status_code, response.headers, response.text[:200])
    error = response.json()["error"]
    assert set(error) == {"code", "message"} and error["message"], error
    return error


ROUTES = [(template, sorted(m.upper() for m in operations if m.upper() in METHODS))
          for template, operations in RAW["paths"].items()] + sorted(PAGE_ROUTES.items())


def mounted_routes():
    """The full path of every route callpark-http mounts, read from its source: the `get(…)` and
    `post(…)` helpers, `web::resource(…)` and the webhooks' `timed(paths::NAME, …)`, each under
    its module's `web::scope(…)` (or the scope of the module that configures it)."""
    sources = {source.stem: source.read_text() for source in HTTP_SRC.glob("*.rs")}
    constants = dict(re.findall(r'pub const (\w+): &str = "(/[^"]*)";', sources["routes"]))
    prefix = {}
    for module, text in sources.items():
        scope = re.search(r'web::scope\(\s*"(/[^"]*)"', text)
        if scope:
            prefix[module] = scope.group(1)
            for inner in re.findall(r"\.configure\(\s*crate::(\w+)::configure\s*\)", text):
                prefix[inner] = scope.group(1)
    found = set()
    for module, text in sources.items():
        paths = re.findall(r'(?<![.\w:])(?:get|post|web::resource)\(\s*"(/[^"]*)"', text)
        paths += [constants[name] for name in re.findall(r"timed\(\s*paths::(\w+)", text)]
        found.update(prefix.get(module, "") + path for path in paths)
    # A pattern's regex (`{path:.*}`) is the description's plain parameter.
    return {re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path) for path in found}


def test_every_route_the_service_mounts_is_walked():
    walked = {template for template, _ in ROUTES}
    mounted = mounted_routes()
    # The scan itself finds routes of every kind and scope, or it would prove nothing.
    assert {"/", "/ui/{path}", "/healthz", "/api/me", "/api/sandbox/pickup", "/admin/orgs",
            "/admin/orgs/{slug}/agents", "/twilio/voice"} <= mounted, sorted(mounted)
    assert not mounted - walked, (
        f"mounted, but neither in docs/openapi.yaml nor a page route: {sorted(mounted - walked)}")
    assert not walked - mounted, (
        f"walked, but callpark-http mounts no such route: {sorted(walked - mounted)}")


@pytest.mark.parametrize("template,documented", ROUTES, ids=[t for t, _ in ROUTES])
def test_a_method_a_path_does_not_have_is_a_405_naming_the_ones_it_has(service, template,
                                                                        documented):
    assert documented, template
    for method in METHODS:
        if method in documented:
            continue
        response = requests.request(method, service.base + concrete(template),
                                    headers=service.headers("alice"), timeout=10)
        assert response.status_code == 405, (method, template, response.status_code, response.text)
        allowed = sorted(m.strip() for m in response.headers["allow"].split(","))
        assert allowed == documented, (method, template, response.headers["allow"])
        error = error_of(response)
        assert error["code"] == "method_not_allowed", error


@pytest.mark.parametrize("path", ["/nope", "/api", "/api/", "/api/lots", "/api/lot/1",
                                  "/admin/orgs/demo/agents/alice/sessions", "/twilio/park",
                                  "/twilio/unknown", "/ui/missing.js", "/healthz/deep"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_path_the_service_does_not_have_is_a_json_404(service, path, method):
    response = requests.request(method, service.base + path, headers=service.headers("alice"),
                                timeout=10)
    assert response.status_code in (404, 405), (method, path, response.status_code)
    if response.status_code == 405:
        # /ui/{path} exists for GET; any other method on it is a 405 like everywhere.
        assert path.startswith("/ui/"), (method, path)
    error = error_of(response)
    assert error["code"] in ("not_found", "method_not_allowed"), error
