"""Text a server sends (model ids, error messages) never reaches the terminal as control sequences."""

from __future__ import annotations

import json

from upstreams import Reply

EVIL_ID = "evil\x1b[2J\x1b]0;pwned\x07model\u202e"
EVIL_MESSAGE = "bad key \x1b[31m\x1b[1A\r\x1b[Kall good \x1b]8;;http://x\x07"


def assert_clean(text: str) -> None:
    for bad in ("\x1b", "\x07", "\u202e", "\r"):
        assert bad not in text, repr(text)


def test_model_ids_and_errors_are_neutralised_in_probe_and_list(run_cli, config_dir, upstream):
    good = upstream()
    good.get("/v1/models", Reply.json({"object": "list", "data": [{"id": EVIL_ID, "object": "model"},
                                                                   {"id": "plain-model", "object": "model"}]}))
    bad = upstream()
    bad.get("/v1/models", Reply.json({"error": {"message": EVIL_MESSAGE, "type": "invalid_request_error"}}, 401))
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text(f'[providers.good]\nbase_url = "{good.url}/v1"\n'
                                            f'[providers.bad]\nbase_url = "{bad.url}/v1"\nkey_required = false\n')
    for args in (("probe",), ("probe", "--verbose"), ("doctor",), ("list", "good"), ("list",)):
        done = run_cli(*args)
        assert_clean(done.stdout + done.stderr)
    data = json.loads(run_cli("probe", "--json").stdout)  # JSON is escaped by construction, and sanitised too
    assert_clean(json.dumps(data, ensure_ascii=False))
    listed = run_cli("list", "good", "--json").stdout
    assert_clean(json.loads(listed)["models"][0]["id"] + json.loads(listed)["models"][1]["id"])
