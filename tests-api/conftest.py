"""Starts the real `callpark` binary in sandbox mode for the API description's tests.

Each test module gets its own service (in-memory store, simulated Twilio, the demo organisation
with agents alice, bob and carol) so that fuzzing in one cannot disturb the walk in another.
"""

import os
import pathlib
import re
import secrets
import subprocess
import tempfile
import time

import pytest
import schemathesis

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "docs" / "openapi.yaml"
BINARY = pathlib.Path(os.environ.get("CALLPARK_BIN", ROOT / "target" / "debug" / "callpark"))


class Service:
    """A running callpark: its base URL, the admin token and the demo agents' tokens."""

    def __init__(self):
        if not BINARY.exists():
            pytest.fail(f"{BINARY} is missing: build it with `cargo build -p callpark-app`")
        self.admin_token = secrets.token_hex(24)
        self.out = tempfile.NamedTemporaryFile("w+", suffix=".out", delete=False)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["CALLPARK_ADMIN_TOKEN"] = self.admin_token
        self.metrics_token = secrets.token_hex(24)
        env["CALLPARK_METRICS_TOKEN"] = self.metrics_token
        # The fuzzer presents wrong tokens on purpose, thousands of them: the throttle of
        # repeated wrong tokens would answer everything after the first ten with 429. It has a
        # test of its own (callpark-app `edges::repeated_wrong_tokens_are_throttled_…`).
        env["CALLPARK_MAX_FAILED_LOGINS"] = "1000000000"
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", "127.0.0.1:0"],
            stdout=self.out,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.tokens = self._wait_for_links()

    def _wait_for_links(self):
        deadline = time.monotonic() + 60  # a loaded CI machine can be slow to start it
        while time.monotonic() < deadline:
            text = pathlib.Path(self.out.name).read_text()
            found = re.findall(r"^\s*(\w+)\s+(http://[^/\s]+)/#token=(\S+)$", text, re.M)
            links = {who: token for who, _, token in found}
            if {"alice", "bob", "carol"} <= links.keys():
                self.base = found[0][1]
                return links
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail("callpark did not print its sign-in links within a minute:\n" + text)

    def headers(self, who):
        secrets_of = {"admin": self.admin_token, "metrics": self.metrics_token}
        token = secrets_of.get(who) or self.tokens[who]
        return {"Authorization": f"Bearer {token}"}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.unlink(self.out.name)


@pytest.fixture(scope="module")
def service():
    running = Service()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api_schema(service):
    schema = schemathesis.openapi.from_path(str(SPEC))
    schema.config.update(base_url=service.base)
    return schema
