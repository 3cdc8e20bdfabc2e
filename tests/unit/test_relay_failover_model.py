"""Failover as a state machine: upstreams change how they answer between requests, and after every request the
relay must have asked exactly whom the rule says, in order, and answered with the right one.

The rule (issue 27): the selection is always asked first; on 429, 402 or 5xx the next chain entry that is not
cooling down is asked; 400/404 (the user's to fix) and successes end the request; a provider that failed cools
down for ``Retry-After`` seconds (``0``: not at all; none given: 30 s, longer than a test), and a cooldown only
ever skips chain entries."""

from __future__ import annotations

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from relayhelp import TOKEN, provider_toml, relay_running, use, write_config

from upstreams import Reply

NAMES = ("p1", "p2", "p3")
FAILOVER = {429, 402, 500, 503}
PATH = "/v1/chat/completions"


def _reply(name: str, status: int, retry_after: str | None) -> Reply:
    if status == 200:
        return Reply.json({"choices": [{"message": {"content": f"from {name}"}}]})
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Reply.json({"error": {"message": f"{name} says {status}"}}, status, headers)


def test_failover_follows_the_rule_through_any_sequence_of_answers(upstream, config_dir):
    servers = {name: upstream() for name in NAMES}
    write_config(config_dir, "".join(provider_toml(n, s.url + "/v1") for n, s in servers.items())
                 + '[failover]\ndefault = ["p2/m2", "p3/m3"]\n')
    use("p1/m1")

    with relay_running() as relay, httpx.Client(timeout=30) as client:

        class Failover(RuleBasedStateMachine):
            @initialize()
            def fresh(self) -> None:
                relay.relay.cooldowns.until.clear()
                self.answers = {name: (200, None) for name in NAMES}
                self.cooling: set[str] = set()
                self.last: tuple[int, str] | None = None
                for name in NAMES:
                    servers[name].post(PATH, _reply(name, 200, None))

            @rule(name=st.sampled_from(NAMES), status=st.sampled_from([200, 429, 402, 500, 503, 400, 404]),
                  retry_after=st.sampled_from([None, "0", "3600"]))
            def answer(self, name: str, status: int, retry_after: str | None) -> None:
                self.answers[name] = (status, retry_after)
                servers[name].post(PATH, _reply(name, status, retry_after))

            @rule()
            def request(self) -> None:
                before = {n: len(servers[n].requests_to(PATH)) for n in NAMES}
                answer = client.post(relay.v1 + "/chat/completions", headers={"authorization": f"Bearer {TOKEN}"},
                                     json={"model": "default", "messages": [{"role": "user", "content": "x"}]})
                asked = [n for n in NAMES if len(servers[n].requests_to(PATH)) > before[n]]
                expected, final = self.expect()
                assert asked == expected, (asked, expected, self.answers, self.cooling)
                assert answer.headers["x-llmswitch-served-by"] == f"{final}/m{final[1]}"
                assert answer.status_code == self.answers[final][0]
                self.last = (answer.status_code, final)

            def expect(self) -> tuple[list[str], str]:
                """Whom the rule asks, in order, and whose answer the client gets; updates the model's cooldowns."""
                asked: list[str] = []
                order = ["p1", *[n for n in ("p2", "p3") if n not in self.cooling]]
                index = 0
                while True:
                    name = order[index]
                    asked.append(name)
                    status, retry_after = self.answers[name]
                    if status not in FAILOVER:
                        return asked, name
                    if retry_after == "0":
                        self.cooling.discard(name)
                    else:
                        self.cooling.add(name)
                    rest = [n for n in order[index + 1:] if n not in self.cooling]
                    if not rest:
                        return asked, name
                    index = order.index(rest[0])

            @invariant()
            def the_selection_was_asked_whatever_cools_down(self) -> None:
                if self.last is not None:
                    assert len(servers["p1"].requests_to(PATH)) > 0

        run_state_machine_as_test(Failover, settings=settings(max_examples=25, stateful_step_count=12, deadline=None))
