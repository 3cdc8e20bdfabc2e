"""The kept protocol fingerprint as a state machine: probes, a day passing, the user deleting or mangling the
file, the base URL moving. Invariant: a plain probe asks the server again exactly when no fresh fingerprint
is kept for its base URL, and ``serves`` then says what the server answered."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from llmswitch.base.outcome import ProbeTarget
from llmswitch.net.probe import probe
from llmswitch.store import served, state
from llmswitch.store.config.model import ProviderConfig
from upstreams import FAKE_KEY, FakeUpstream, openai_like

PID = "box"
FINGERPRINT_POSTS = 5


class KeptFingerprint(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.servers = [openai_like(FakeUpstream().start(), models=("m1",)) for _ in range(2)]
        self.at = 0
        self.fresh: set[int] = set()
        """Which servers' URLs have a fresh fingerprint kept, as the model expects."""
        path = self.path()
        path.unlink(missing_ok=True)

    def teardown(self) -> None:
        for server in self.servers:
            server.stop()

    def url(self, i: int | None = None) -> str:
        return self.servers[self.at if i is None else i].url + "/v1"

    def path(self) -> Path:
        return Path(os.environ["LLMSWITCH_STATE_DIR"]) / "served" / f"{PID}.json"

    def probe(self, *, protocols: bool) -> int:
        server = self.servers[self.at]
        before = len(server.requests)
        target = ProbeTarget(PID, self.url(), key=FAKE_KEY, timeout=5)
        result = asyncio.run(probe(target, protocols=protocols))
        state.remember(result, self.url())
        assert result.protocols is not None and result.protocols["responses"] is False
        return len([r for r in server.requests[before:] if r.method == "POST"])

    @rule()
    def plain_probe(self) -> None:
        posted = self.probe(protocols=False)
        assert posted == (0 if self.at in self.fresh else FINGERPRINT_POSTS)
        self.fresh = {self.at}  # one file per provider: the other URL's fingerprint is gone

    @rule()
    def probe_protocols(self) -> None:
        assert self.probe(protocols=True) == FINGERPRINT_POSTS
        self.fresh = {self.at}

    @rule()
    def a_day_passes(self) -> None:
        try:
            document = json.loads(self.path().read_text())
        except (OSError, ValueError):
            document = None  # none kept, or mangled by the user
        if isinstance(document, dict) and "protocols_checked" in document:
            document["protocols_checked"] = "2020-01-01T00:00:00+00:00"
            self.path().write_text(json.dumps(document))
        self.fresh = set()

    @rule()
    def user_deletes_the_file(self) -> None:
        self.path().unlink(missing_ok=True)
        self.fresh = set()

    @rule()
    def user_mangles_the_file(self) -> None:
        if self.path().exists():
            self.path().write_text('{"provider": "box", "base_url": 3, "protocols": "yes"')
        self.fresh = set()

    @rule()
    def base_url_moves(self) -> None:
        self.at = 1 - self.at

    @invariant()
    def serves_says_what_was_seen(self) -> None:
        provider = ProviderConfig(id=PID, name=PID, base_url=self.url())
        expected = False if self.at in self.fresh else None
        assert served.serves(provider, "responses") is expected
        assert served.fingerprint_due(PID, self.url()) is (self.at not in self.fresh)


def test_the_kept_fingerprint():
    KeptFingerprint.TestCase.settings = settings(max_examples=25, stateful_step_count=10, deadline=None)
    KeptFingerprint.TestCase().runTest()
