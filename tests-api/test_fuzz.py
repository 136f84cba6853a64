"""Every operation of docs/openapi.yaml, fuzzed by schemathesis against the running service.

Each generated request gets the credentials its operation's security names (admin, an agent,
or none, so that Twilio's webhooks are refused for their missing signature). A response whose
status, content type, headers or body the description does not document fails the test, and
so does a schema-valid request that is refused with 400.
"""

import schemathesis
from hypothesis import settings
from schemathesis.specs.openapi import checks

schema = schemathesis.pytest.from_fixture("api_schema")

# Checks left out, and why:
# - negative_data_rejection: the service trims text fields and accepts what trims to a valid
#   value, which a JSON schema cannot express; bad values are refused (the app's bad_input tests).
EXCLUDED = [checks.negative_data_rejection]

# A slot number is valid for the description (1..999) but only exists up to the lot's size,
# which is the organisation's setting: outside it is a 400 that no schema can foresee.
SLOT_DEPENDENT = {("POST", "/api/park"), ("POST", "/api/lot/{slot}/retrieve")}


# Operations for a supervisor of the organisation (alice, in the demo) rather than any agent.
SUPERVISED = {"/api/stats"}

# A report's range is valid for the description (two times, a bucket) but may be empty or
# hold more than 1000 buckets: a 400 that no schema can foresee.
RANGE_DEPENDENT = {("GET", "/api/stats")}


def credentials(service, case):
    security = case.operation.definition.raw.get("security", [])
    schemes = {name for requirement in security for name in requirement}
    if "admin" in schemes:
        return service.headers("admin")
    if "metrics" in schemes:
        return service.headers("metrics")
    if case.operation.path in SUPERVISED:
        return service.headers("alice")
    if "agent" in schemes:
        return service.headers("carol")
    return {}


# A history cursor is opaque: only one the service handed out (a page's `nextCursor`) is
# valid, and any other string is a 400 that no schema can foresee.
CURSOR_DEPENDENT = {("GET", "/api/history")}


def excluded(case):
    operation = (case.operation.method.upper(), case.operation.path)
    if operation in SLOT_DEPENDENT or operation in RANGE_DEPENDENT or (
            operation in CURSOR_DEPENDENT and "cursor" in (case.query or {})):
        return EXCLUDED + [checks.positive_data_acceptance]
    return EXCLUDED


def timeout(case):
    # The live stream never ends: its snapshot comes at once, then nothing for 15 s, so a short
    # read timeout cuts it after the snapshot (schemathesis validates the events it got).
    return 0.5 if case.operation.path == "/api/events" else 10


@schema.parametrize()
@settings(max_examples=40)
def test_every_operation_answers_as_documented(case, service):
    case.call_and_validate(headers=credentials(service, case), excluded_checks=excluded(case),
                           timeout=timeout(case))
