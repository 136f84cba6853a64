"""A call's whole life through the running service, every response checked against
docs/openapi.yaml: its status must be documented for the operation, its content type declared,
and its body valid for the schema. Fuzzing (test_fuzz.py) rarely reaches these answers, since
they need state: an organisation, a signed-in agent, a live call, a parked call.
"""

import json
import time

import jsonschema_rs
import pytest
import requests
import schemathesis
import yaml
from schemathesis.specs.openapi.converter import to_json_schema

from conftest import SPEC

RAW = yaml.safe_load(SPEC.read_text())
SCHEMA = schemathesis.openapi.from_path(str(SPEC))


class Api:
    """Calls the service and checks each answer against the description."""

    def __init__(self, service):
        self.service = service

    def call(self, method, path, who, template=None, status=None, **kwargs):
        headers = self.service.headers(who) if who else {}
        headers.update(kwargs.pop("headers", {}))
        response = requests.request(method, self.service.base + path, headers=headers,
                                    timeout=10, **kwargs)
        documented(method, template or path, response)
        if status is not None:
            assert response.status_code == status, (method, path, response.text)
        return response


def documented(method, template, response):
    operation = RAW["paths"][template][method.lower()]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, (
        f"{method} {template} answered {response.status_code}, which the description does not "
        f"document: {response.text[:200]}")
    declared = resolve(declared)
    content = declared.get("content", {})
    body_type = response.headers.get("content-type", "").split(";")[0].strip()
    if content:
        assert body_type in content, f"{method} {template}: {body_type} is not one of {list(content)}"
    else:
        assert not response.content, f"{method} {template} {response.status_code}: no body documented"
    SCHEMA[template][method.upper()].validate_response(response)


def resolve(node):
    """Follows a local `$ref` (`#/components/…`) to what it names."""
    while "$ref" in node:
        target = RAW
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def component(name):
    """A validator for a component schema, in JSON Schema terms (nullable becomes null)."""
    document = {"$ref": f"#/components/schemas/{name}",
                "components": {"schemas": {
                    key: to_json_schema(value, nullable_keyword="nullable", is_response_schema=True)
                    for key, value in RAW["components"]["schemas"].items()}}}
    return jsonschema_rs.validator_for(document)


def first_sse_event(api, who):
    """The live stream's first event (the snapshot), read then dropped."""
    headers = api.service.headers(who)
    with requests.get(api.service.base + "/api/events", headers=headers, stream=True,
                      timeout=10) as response:
        documented_status = RAW["paths"]["/api/events"]["get"]["responses"]
        assert str(response.status_code) in documented_status
        assert response.headers["content-type"].startswith("text/event-stream")
        fields = {}
        for line in response.iter_lines(decode_unicode=True):
            if not line:
                if "data" in fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    pytest.fail("the live stream ended before its first event")


def wait_for(api, who, predicate, what):
    for _ in range(100):
        lot = api.call("GET", "/api/lot", who, status=200).json()
        if predicate(lot):
            return lot
        time.sleep(0.1)
    pytest.fail(f"{what}: {lot}")


@pytest.fixture(scope="module")
def api(service):
    return Api(service)


def test_admin_operations_answer_as_documented(api):
    org = {"slug": "walk", "name": "Walk Ltd", "slots": 4, "numbers": ["+14155550999"],
           "holdMusicUrl": "https://example.com/hold.mp3", "timeoutAction": "voicemail"}
    api.call("POST", "/admin/orgs", "admin", json=org, status=201)
    api.call("POST", "/admin/orgs", "admin", json=org, status=409)
    api.call("POST", "/admin/orgs", None, json=org, status=401)
    api.call("POST", "/admin/orgs", "admin", json={**org, "slots": 0}, status=400)
    api.call("GET", "/admin/orgs/walk", "admin", "/admin/orgs/{slug}", status=200)
    api.call("GET", "/admin/orgs/nowhere", "admin", "/admin/orgs/{slug}", status=404)
    agent = api.call("POST", "/admin/orgs/walk/agents", "admin", "/admin/orgs/{slug}/agents",
                     json={"identity": "dave", "displayName": "Dave"}, status=201).json()
    api.service.tokens["dave"] = agent["token"]
    api.call("GET", "/api/me", "dave", status=200)
    api.call("POST", "/admin/orgs/walk/agents", "admin", "/admin/orgs/{slug}/agents",
             json={"identity": "dave"}, status=409)


def test_a_call_life_answers_as_documented(api):
    api.call("POST", "/api/session", "alice", status=200)
    api.call("POST", "/api/session", "bob", status=200)
    api.call("GET", "/api/agents", "alice", status=200)
    api.call("GET", "/api/token", "alice", status=404)  # the sandbox has no Voice SDK
    caller = api.call("POST", "/api/sandbox/calls", "alice", json={"from": "+14155550142"},
                      status=201).json()
    me = api.call("GET", "/api/me", "alice", status=200).json()
    assert me["currentCall"]["pstnCallSid"] == caller["callSid"]

    parked = api.call("POST", "/api/park", "alice", status=201,
                      json={"callSid": me["currentCall"]["callSid"], "slot": 2}).json()
    assert parked["slot"] == 2
    api.call("POST", "/api/park", "alice", status=400, json={"callSid": "CA12"})
    lot = wait_for(api, "bob", lambda lot: lot["slots"][1]["state"] == "parked"
                   and lot["slots"][1]["call"]["conferenceSid"], "slot 2 never parked")
    assert lot["slots"][1]["call"]["callerNumber"] == "+14155550142"

    snapshot = first_sse_event(api, "bob")
    assert snapshot["event"] == "snapshot"
    errors = list(component("Lot").iter_errors(json.loads(snapshot["data"])))
    assert not errors, errors

    template = "/api/lot/{slot}/retrieve"
    api.call("POST", "/api/lot/1/retrieve", "bob", template, status=404)
    api.call("POST", "/api/lot/2/retrieve", "bob", template, json={"agent": "bob"}, status=200)
    wait_for(api, "bob", lambda lot: lot["slots"][1]["state"] == "free", "slot 2 never freed")
    assert api.call("GET", "/api/me", "bob", status=200).json()["currentCall"]

    api.call("POST", f"/api/sandbox/calls/{caller['callSid']}/hangup", "bob",
             "/api/sandbox/calls/{sid}/hangup", status=204)
    # Alice supervises the demo organisation: she reads what its history adds up to.
    stats = api.call("GET", "/api/stats", "alice", status=200).json()
    assert stats["totals"]["parks"] >= 1 and stats["totals"]["retrieved"] >= 1, stats
    api.call("GET", "/api/stats", "bob", status=403)
    api.call("GET", "/api/stats?bucket=week", "alice", "/api/stats", status=400)
    # No voicemail was left: its audio is not found, nor is a malformed id's.
    for voicemail in ["67e55044-10b1-426f-9247-bb680e5fe0c8", "not-an-id"]:
        api.call("GET", f"/api/voicemails/{voicemail}/audio", "alice",
                 "/api/voicemails/{id}/audio", status=404)
        api.call("POST", f"/api/voicemails/{voicemail}/handled", "alice",
                 "/api/voicemails/{id}/handled", json={}, status=404)
    api.call("DELETE", "/api/session", "alice", status=204)


def test_operations_endpoints_answer_as_documented(api):
    api.call("GET", "/healthz", None, status=200)
    api.call("GET", "/readyz", None, status=200)
    api.call("GET", "/metrics", None, status=401)
    api.call("GET", "/metrics", "metrics", status=200)
    api.call("GET", "/api/lot", None, status=401)
    api.call("POST", "/twilio/voice", None, data={"CallSid": "CA" + "0" * 32}, status=403)
