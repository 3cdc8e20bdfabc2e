"""A keyed probe skips the keyless request when an earlier probe of the same URL settled it, recently.

An earlier probe saw ``GET /models`` refuse the request without the key (state dir ``probes/ID.json``,
``models_guarded``): for an hour (``state.MODELS_GUARDED_MAX_AGE``) a plain keyed probe whose keyed request
lists models from the same server counts the key as verified without asking again, and says so with the
sighting's age. ``--deep`` asks anyway; an answer that contradicts the sighting (a list without the key, the key
refused, another server, other protocols) makes the store forget it. Counted at a real upstream on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from datetime import datetime, timedelta

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from llmswitch.base import paths
from llmswitch.base.outcome import Outcome, ProbeTarget
from llmswitch.net.probe import probe
from llmswitch.net.probe.verify import REFUSED_WITHOUT_KEY, REFUSES_WITHOUT_KEY
from llmswitch.store import state
from upstreams import FAKE_KEY, FakeUpstream, Reply, models_body, openai_error

EARLIER = f"{REFUSED_WITHOUT_KEY} (seen just now)"


class Flipping:
    """One upstream whose ``/v1/models`` is guarded or public, takes the key or not, and may change software."""

    def __init__(self, server: FakeUpstream) -> None:
        self.server = server
        self.guarded = True
        self.key_taken = True
        self.owned_by = "openai"
        self.keyless_asked = 0
        self._lock = threading.Lock()
        server.get("/v1/models", self._answer)

    def _answer(self, request) -> Reply:
        listing = Reply.json(models_body(["m1", "m2"], owned_by=self.owned_by))
        auth = request.headers.get("authorization")
        if auth is None:
            with self._lock:
                self.keyless_asked += 1
            return openai_error("You didn't provide an API key.") if self.guarded else listing
        if auth == f"Bearer {FAKE_KEY}" and self.key_taken:
            return listing
        return openai_error("Incorrect API key provided.")

    def target(self, provider: str = "acme", key: str | None = FAKE_KEY) -> ProbeTarget:
        return ProbeTarget(provider, self.server.url + "/v1", key=key, key_required=key is not None, timeout=10)

    def asked(self) -> int:
        """Keyless ``GET /models`` requests since the last call."""
        with self._lock:
            count, self.keyless_asked = self.keyless_asked, 0
        return count


async def probed(box: Flipping, *, deep: bool = False, key: str | None = FAKE_KEY, provider: str = "acme"):
    """Probe as the CLI does: probe, then remember."""
    target = box.target(provider, key)
    result = await probe(target, deep=deep)
    state.remember(result, target.base_url)
    return result


def age_sighting(provider: str, seconds: float) -> None:
    """Time passes: the kept sighting is ``seconds`` older."""
    path = paths.state_dir() / "probes" / f"{provider}.json"
    document = json.loads(path.read_text())
    seen = datetime.fromisoformat(document["models_guarded"]["seen"])
    document["models_guarded"]["seen"] = (seen - timedelta(seconds=seconds)).isoformat()
    path.write_text(json.dumps(document))


async def test_a_settled_url_is_not_asked_again_and_says_when_it_was_seen(upstream):
    box = Flipping(upstream())
    first = await probed(box)
    assert first.outcome is Outcome.OK and first.verified_by == REFUSES_WITHOUT_KEY and box.asked() == 1
    again = await probed(box)
    assert box.asked() == 0  # the keyless request was not sent
    assert again.outcome is Outcome.OK and again.key_verified is True and again.verified_by == EARLIER
    assert again.models_guarded is None  # nothing new was seen: the sighting keeps its age


async def test_after_the_bound_it_is_asked_again(upstream):
    box = Flipping(upstream())
    await probed(box)
    box.asked()
    age_sighting("acme", state.MODELS_GUARDED_MAX_AGE - 120)
    still = await probed(box)
    assert box.asked() == 0 and still.verified_by == f"{REFUSED_WITHOUT_KEY} (seen 58 min ago)"
    age_sighting("acme", 240)
    late = await probed(box)
    assert box.asked() == 1 and late.verified_by == REFUSES_WITHOUT_KEY  # asked, and seen afresh
    assert (await probed(box)).verified_by == EARLIER and box.asked() == 0


async def test_deep_always_asks(upstream):
    box = Flipping(upstream())
    await probed(box)
    box.asked()
    box.guarded = False
    deep = await probed(box, deep=True)
    assert box.asked() == 1 and deep.outcome is not Outcome.OK
    assert state.models_guarded("acme", box.target().base_url) is None  # the public list contradicted it
    plain = await probed(box)
    assert box.asked() == 1 and plain.outcome is Outcome.KEY_UNVERIFIED


async def test_a_refused_key_forgets_the_sighting(upstream):
    box = Flipping(upstream())
    await probed(box)
    box.key_taken = False
    assert (await probed(box)).outcome is Outcome.AUTH_REJECTED
    box.key_taken = True
    box.asked()
    result = await probed(box)
    assert box.asked() == 1 and result.verified_by == REFUSES_WITHOUT_KEY


async def test_a_list_without_the_key_forgets_the_sighting(upstream):
    box = Flipping(upstream())
    await probed(box)
    box.guarded = False
    keyless = await probed(box, key=None)  # e.g. the key unset for a while: the server listed anyway
    assert keyless.models and keyless.models_guarded is False
    box.asked()
    result = await probed(box)
    assert box.asked() == 1 and result.outcome is Outcome.KEY_UNVERIFIED


async def test_another_server_at_the_url_is_asked_at_once(upstream):
    box = Flipping(upstream())
    await probed(box)
    box.guarded, box.owned_by = False, "vllm"  # vLLM restarted without --api-key on the same port
    box.asked()
    result = await probed(box)
    assert box.asked() == 1 and result.outcome is Outcome.ANY_KEY and result.key_verified is False
    assert state.models_guarded("acme", box.target().base_url) is None


async def test_the_sighting_belongs_to_its_url(upstream):
    box, other = Flipping(upstream()), Flipping(upstream())
    await probed(box)
    box.asked()
    moved = ProbeTarget("acme", other.server.url + "/v1", key=FAKE_KEY, timeout=10)
    result = await probe(moved)
    assert other.asked() == 1 and result.verified_by == REFUSES_WITHOUT_KEY


def test_the_cli_and_json_say_how_it_was_verified(run_cli, config_dir, upstream):
    box = Flipping(upstream())
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[providers.acme]\nbase_url = "{box.server.url}/v1"\n'
                                            'key_required = true\n')
    run_cli("key", "set", "acme", input=FAKE_KEY)
    assert json.loads(run_cli("probe", "--json", "acme").stdout)[0]["verified_by"] == REFUSES_WITHOUT_KEY
    box.asked()
    shown = run_cli("probe", "-v", "acme").stdout
    assert f"verified ({EARLIER})" in shown and box.asked() == 0
    data = json.loads(run_cli("probe", "--json", "acme").stdout)[0]
    assert data["outcome"] == "ok" and data["key_verified"] is True and data["verified_by"] == EARLIER
    assert FAKE_KEY not in shown + json.dumps(data)


# -- the server flips between probes: a state machine ------------------------------------------------

_ids = itertools.count()


class SettledKeyMachine(RuleBasedStateMachine):
    """Probes of every kind while the server flips; the model says when the keyless request must be sent.

    Model: ``sighting`` — a fresh sighting is kept (set by a probe that saw the keyless request refused, cleared by
    any answer against it and by age). A plain keyed probe that lists from the same software sends no keyless
    request exactly while one is kept; every other keyed listing sends it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.server = FakeUpstream().start()
        self.box = Flipping(self.server)
        self.provider = f"acme{next(_ids)}"
        self.kept = False
        self.kept_server: str | None = None  # the software the kept sighting was seen with

    def teardown(self) -> None:
        self.server.stop()

    def _probe(self, **kw):
        """Probe (its event loop closed when it returns), then wait until the server has handled every connection:
        a keyless request the probe started and then cancelled (its keyed answer needed no check) may have been
        sent, and would be counted in the next step's requests."""
        result = asyncio.run(probed(self.box, provider=self.provider, **kw))
        assert self.server.wait_idle(), "a connection to the fake server was left open"
        return result

    @rule()
    def guard(self) -> None:
        self.box.guarded = True

    @rule()
    def open_up(self) -> None:
        self.box.guarded = False

    @rule()
    def reject_the_key(self) -> None:
        self.box.key_taken = False

    @rule()
    def take_the_key(self) -> None:
        self.box.key_taken = True

    @rule()
    def other_software(self) -> None:
        self.box.owned_by = "vllm" if self.box.owned_by == "openai" else "openai"

    @precondition(lambda self: self.kept)
    @rule()
    def an_hour_passes(self) -> None:
        age_sighting(self.provider, state.MODELS_GUARDED_MAX_AGE + 1)
        self.kept = False

    @rule(deep=st.booleans())
    def keyed_probe(self, deep: bool) -> None:
        box = self.box
        server = "vLLM" if box.owned_by == "vllm" else None
        result = self._probe(deep=deep)
        asked = box.asked()
        if not box.key_taken:
            assert result.outcome is Outcome.AUTH_REJECTED and result.key_verified is False
            self.kept = False
            return
        assert result.server == server
        if not deep and self.kept and self.kept_server == server:
            assert asked == 0 and result.outcome is Outcome.OK and result.verified_by == EARLIER
            event("settled by an earlier sighting")
            return  # within the bound, a server that opened up is not noticed: the accepted cost
        assert asked == 1 and result.models_guarded is box.guarded
        event("asked again" + (" while a sighting was kept" if self.kept else ""))
        if box.guarded:
            assert result.key_verified is True and result.verified_by == REFUSES_WITHOUT_KEY
            assert deep or result.outcome is Outcome.OK
        else:
            assert not result.key_verified
            assert deep or result.outcome in (Outcome.KEY_UNVERIFIED, Outcome.ANY_KEY)
        self.kept, self.kept_server = box.guarded, server

    @rule()
    def keyless_probe(self) -> None:
        result = self._probe(key=None)
        assert self.box.asked() == 1
        if not self.box.guarded:
            assert result.models and result.models_guarded is False
            self.kept = False

    @invariant()
    def the_store_agrees(self) -> None:
        kept = state.models_guarded(self.provider, self.box.target(self.provider).base_url)
        assert (kept is not None) == self.kept
        if kept is not None:
            assert kept.server == self.kept_server


SettledKeyMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None)
test_settled_key_machine = SettledKeyMachine.TestCase
