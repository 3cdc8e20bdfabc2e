"""``llmswitch relay``: a local server that forwards each request to what the selection says *now*.

* :mod:`.routes`: the routes it serves, the protocol each speaks, and errors in that protocol's shape;
* :mod:`.served`: the one question "does this provider serve protocol X";
* :mod:`.targets`: a request's ``model`` (a role or ``PROVIDER/MODEL``) → where it goes, failover chains, cooldowns;
* :mod:`.token`: the relay's own token (not a provider key);
* :mod:`llmswitch.store.relaystate`: what ``relay status`` reads (where it runs, recent failovers);
* :mod:`.server`: the Starlette app on uvicorn, httpx upstream, streaming passed through.
"""
