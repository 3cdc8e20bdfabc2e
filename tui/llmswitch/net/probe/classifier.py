"""One answer → a :class:`Diagnosis`: what an HTTP status, its headers and its body mean.

Pure and stdlib-only (no httpx): the regexes that read servers' error words live here,
with the sentences every surface shows for them. ``classify`` never raises.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from llmswitch.base import bounded, keyfix, urls
from llmswitch.base.keyorigin import KEYRING
from llmswitch.base.redact import MIN_SECRET_LENGTH, redact_secrets, scrub, terminal_safe

from ...base.outcome import Diagnosis, Outcome, ProbeTarget
from .endpoints import models_url
from .fingerprints import fingerprint

__all__ = ["MAX_BODY", "MESSAGE_LIMIT", "classify", "cross_origin_redirect", "refused_url"]

MAX_BODY = bounded.SERVER_ANSWER.cap
"""Bytes of a (decoded) answer we read at most (8 MiB); more is NOT_OPENAI ("answer too large")."""
MESSAGE_LIMIT = 200
"""Characters of a server's message kept in a result."""

_MISSING_RE = re.compile(
    r"missing (?:the )?(?:subscription )?(?:authentication|authorization|auth|api[ _-]?key|bearer|credentials?"
    r"|token|key)"
    r"|didn'?t provide|did not provide|must provide (?:an? )?(?:api[ _-]?)?key|not provided"
    r"|no (?:api[ _-]?key|auth(?:entication|orization)?(?: header)?|credentials?|token|key)\b"
    r"|(?:api[ _-]?key|authorization|bearer token|credentials?)(?: header)? (?:is )?(?:required|missing)"
    r"|not authenticated|authentication required|login required")
_REJECTED_RE = re.compile(
    r"(?:invalid|incorrect|wrong|bad|unknown|expired|revoked|disabled|deactivated|malformed)"
    r"[\w .\-]{0,24}?(?:api[ _-]?key|key|token|credential|secret|bearer|password)"
    r"|(?:api[ _-]?key|token|key|credentials?)\b[\w ]{0,16}?(?:is )?(?:invalid|not valid|expired|revoked|incorrect)"
    r"|authentication (?:error|failed|failure)|auth_error|unauthori[sz]ed|user not found|invalid proxy server token"
    r"|invalid_api_key")
_DB_RE = re.compile(r"no connected db|db not connected|database (?:is )?not connected")
_QUOTA_RE = re.compile(r"insufficient[_ ]quota|exceeded your current quota|insufficient (?:credits?|balance|funds)"
                       r"|credit balance|payment required|out of credits|billing")
_NOT_FOUND_RE = re.compile(r"\bnot found\b|unexpected endpoint|no route|unknown (?:url|endpoint|path|route)"
                           r"|cannot get|404 page|no such (?:path|endpoint)|invalid url")
_API_VERSION_RE = re.compile(r"api[ -]?version")
AZURE_GA_VERSION = "2024-10-21"
"""A generally available dated Azure OpenAI ``api-version``, named in fixes."""
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]+>")
NO_JSON: Any = object()
"""What :func:`parse_json` returns for text the bounded decoder refuses (not JSON, too deep, NaN…)."""

_Make = Callable[[Outcome, str, str | None], Diagnosis]


def classify(status: int | None, headers: Mapping[str, str], body: bytes, *, target: ProbeTarget,
             decoded: bounded.Decoded | None = None) -> Diagnosis:
    """Say what one answer to ``GET {base_url}/models`` means. Pure; never raises.

    ``target`` tells whether a key was sent (``target.key``), whether one is
    needed, which model is selected and the preset hint for the fingerprint.
    ``decoded``: ``body`` already through :func:`llmswitch.base.bounded.decode_json` (``transport.Exchange.json``).
    """
    try:
        diagnosis = _classify(status, headers, body, target, decoded)
    except Exception as exc:  # a bug here must not hide the answer; say what we could not do
        diagnosis = Diagnosis(Outcome.AMBIGUOUS, f"could not interpret the answer ({type(exc).__name__})",
                              ambiguous_fix(target))
    return scrub_diagnosis(diagnosis, target.key)


def _classify(status: int | None, headers: Mapping[str, str], body: bytes, target: ProbeTarget,
              decoded: bounded.Decoded | None) -> Diagnosis:
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    provider = target.provider
    if len(body) > MAX_BODY:
        return Diagnosis(Outcome.NOT_OPENAI, f"answer too large (over {MAX_BODY // (1024 * 1024)} MiB)",
                         "check base_url points at an OpenAI-compatible API",
                         server=fingerprint(lowered, None, target))
    text = body.decode("utf-8", errors="replace")
    decoded = decoded or bounded.decode_json(text)
    data = json_value(decoded)
    message = message_of(data, text, target.key)
    server = fingerprint(lowered, data, target)
    key_sent = target.key is not None
    retry_after = parse_retry_after(lowered)

    def make(outcome: Outcome, summary: str, fix: str | None) -> Diagnosis:
        return Diagnosis(outcome, summary, fix, server_message=message, server=server, retry_after=retry_after)

    if status is None:
        return make(Outcome.NOT_OPENAI, "no HTTP status in the answer", "check base_url points at an HTTP API")
    if 300 <= status < 400:
        location = terminal_safe(redact_secrets(scrub(lowered.get("location", ""), target.key)), MESSAGE_LIMIT)
        summary = f"redirected (HTTP {status}) to {location}" if location else f"redirected (HTTP {status})"
        return make(Outcome.REDIRECTED, summary, "change base_url to the address that answers without a redirect")
    if 200 <= status < 300:
        return _classify_success(status, lowered, text, data, message, server, target, decoded.refusal)

    auth = _auth_problem(message, text) if 400 <= status < 500 and status != 429 else None
    if status == 401 or auth is not None:
        return _auth_diagnosis(status, auth, key_sent, target, make)
    if status == 402 or (400 <= status < 500 and _QUOTA_RE.search(_haystack(message, text))):
        return make(Outcome.NO_CREDIT, "no credit or quota left",
                    f"add credit or raise the quota for this key at {provider}, or use another key: "
                    f"{keyfix.replace_key(target.key_origin, provider, alternatives=False)}")
    if status == 403:
        return make(Outcome.FORBIDDEN, "forbidden",
                    "the server refuses this key or address: check the key's permissions, region or IP allow-list")
    if status == 429:
        wait = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return make(Outcome.RATE_LIMITED, f"rate limited{wait} — the key works",
                    "wait a moment before using it; the key itself is accepted")
    if status in (404, 405, 410) or (400 <= status < 500 and message and _NOT_FOUND_RE.search(message.lower())):
        return make(Outcome.NOT_FOUND, f"not found at {path_of(target)}" if status != 405
                    else f"{path_of(target)} does not answer GET (HTTP 405)", not_found_fix(target))
    if status == 408:
        return make(Outcome.TIMEOUT, "the server timed out the request (HTTP 408)",
                    "try again; if it persists the server is overloaded")
    if target.api_kind == "azure" and 400 <= status < 500 and _API_VERSION_RE.search(_haystack(message, text)):
        return make(Outcome.NOT_FOUND, f"Azure refuses api_version {terminal_safe(target.api_version or '', 40)}",
                    f"set api_version to one this resource supports (e.g. \"{AZURE_GA_VERSION}\") for {provider} "
                    f"in config.toml, or remove it to use Azure's v1 API")
    if 400 <= status < 500:
        return make(Outcome.AMBIGUOUS, f"HTTP {status}: the answer names neither the key nor the path",
                    ambiguous_fix(target))
    if 500 <= status < 600:
        local = urls.is_local(target.base_url)
        return make(Outcome.SERVER_ERROR, f"server error (HTTP {status})",
                    "look at the server's console output" if local
                    else "the provider failed; try again later or check its status page")
    return make(Outcome.NOT_OPENAI, f"unexpected HTTP status {status}", "check base_url points at an HTTP API")


def _classify_success(status: int, headers: dict[str, str], text: str, data: Any, message: str | None,
                      server: str | None, target: ProbeTarget, refusal: bounded.Refusal | None = None) -> Diagnosis:
    provider = target.provider
    models = _model_list(data)
    if isinstance(models, tuple):
        count = f"{len(models)} model{'s' if len(models) != 1 else ''}"
        if target.key is None and target.key_required:
            return Diagnosis(Outcome.AUTH_MISSING, f"{keyfix.no_key_phrase(target.key_origin)} (the server lists "
                             f"{count} without one)", keyfix.missing_fix(target.key_origin, provider), models, message,
                             server)
        if target.model and target.model not in models and target.api_kind != "azure":  # Azure: deep check
            close = difflib.get_close_matches(target.model, models, n=1)
            hint = f" (closest: {close[0]})" if close else ""
            return Diagnosis(Outcome.MODEL_MISSING, f"model {terminal_safe(target.model, 80)} not among {count}",
                             f"choose one of the listed models{hint}", models, message, server)
        if target.key is None:
            return Diagnosis(Outcome.KEYLESS, f"{count} · no key needed", None, models, message, server)
        return Diagnosis(Outcome.OK, count, None, models, message, server)

    def make(outcome: Outcome, summary: str, fix: str | None) -> Diagnosis:
        return Diagnosis(outcome, summary, fix, server_message=message, server=server)

    content_type = headers.get("content-type", "").lower()
    stripped = text.lstrip()[:512].lower()
    if isinstance(data, dict) and "error" in data and message:
        auth = _auth_problem(message, text)
        if auth:
            return _auth_diagnosis(status, auth, target.key is not None, target, make)
        if _NOT_FOUND_RE.search(message.lower()):
            return make(Outcome.NOT_FOUND, f"not found at {path_of(target)} (HTTP {status} with an error)",
                        not_found_fix(target))
        return make(Outcome.AMBIGUOUS, f"HTTP {status} with an error that names neither key nor path",
                    ambiguous_fix(target))
    if "html" in content_type or stripped.startswith(("<!doctype html", "<html")) or "<body" in stripped:
        login = any(w in stripped or w in text[:4096].lower() for w in ("login", "log in", "sign in", "sign-in"))
        what = "a login page" if login else "an HTML page"
        fix = ("the URL is behind a sign-in (proxy or SSO); point base_url at the API itself" if login
               else "point base_url at the API, not a web page (it usually ends in /v1)")
        return make(Outcome.NOT_OPENAI, f"{what}, not an API answer", fix)
    if data is NO_JSON:
        what = ("empty answer" if not text.strip() else "not JSON" if refusal is None
                or refusal.problem == bounded.Problem.NOT_PARSED else f"JSON llmswitch refuses: it {refusal.cause}")
        return make(Outcome.NOT_OPENAI, f"{what} (HTTP {status})", "check base_url points at an OpenAI-compatible API")
    if isinstance(models, str):
        return make(Outcome.NOT_OPENAI, f"model list has wrong types ({models})",
                    "the server is not OpenAI-compatible at this path")
    return make(Outcome.NOT_OPENAI, "JSON without a model list",
                "check base_url points at an OpenAI-compatible API (it usually ends in /v1)")


def _auth_diagnosis(status: int, auth: str | None, key_sent: bool, target: ProbeTarget, make: _Make) -> Diagnosis:
    provider, origin = target.provider, target.key_origin
    set_key = keyfix.replace_key(origin, provider, alternatives=False)  # where the key sent came from (keyfix)
    if auth == "db":
        return make(Outcome.AUTH_REJECTED, "key rejected (the proxy has no database for virtual keys)",
                    f"{set_key} with the proxy's master key, or connect a database to it")
    if auth == "missing" or not key_sent:
        if key_sent:
            header = urls.key_header(target.api_kind)
            return make(Outcome.AUTH_MISSING, f"the server says no key arrived (sent in {header})",
                        f"check api_kind matches the server (a proxy may strip the header), or {set_key}")
        wanted = f"{keyfix.no_key_phrase(origin)} (the server wants one)" if target.key_required or origin else \
            "the server wants a key and none was sent"
        return make(Outcome.AUTH_MISSING, wanted, keyfix.missing_fix(origin, provider))
    if auth == "rejected" or status == 401:
        # the status cell stays short for the usual source (the keyring, shown in the diagnosis panel's
        # key line); a key from an override, an env var or a command is news, so the summary names it
        came = keyfix.source_phrase(origin) if origin is not None and origin.kind != KEYRING else ""
        return make(Outcome.AUTH_REJECTED, f"key rejected ({came})" if came else "key rejected",
                    keyfix.rejected_fix(origin, provider))
    return make(Outcome.AMBIGUOUS, f"HTTP {status}: key or URL?", ambiguous_fix(target))


def _auth_problem(message: str | None, text: str) -> str | None:
    """"missing", "rejected", "db" or None, from the words of an error answer."""
    haystack = _haystack(message, text)
    if _DB_RE.search(haystack):
        return "db"
    if _MISSING_RE.search(haystack):
        return "missing"
    if _REJECTED_RE.search(haystack):
        return "rejected"
    return None


def _haystack(message: str | None, text: str) -> str:
    return f"{message or ''} {text[:4096]}".lower()


def out_of_quota(body: bytes) -> bool:
    """A 429 whose words say the quota is gone (waiting will not help)."""
    return bool(_QUOTA_RE.search(body[:4096].decode("utf-8", "replace").lower()))


def ambiguous_fix(target: ProbeTarget) -> str:
    if target.key is None:  # nothing to check about a key that was not sent (the probe offers adding one)
        return "read the server's message and check base_url"
    return (f"read the server's message; check both base_url and the key "
            f"({keyfix.replace_key(target.key_origin, target.provider, alternatives=False)})")


def says_not_found(message: str) -> bool:
    """True when a server's message says the path does not exist ("not found", "unexpected endpoint", "invalid url")."""
    return bool(_NOT_FOUND_RE.search(message.lower()))


def parse_json(text: str) -> Any:
    """``text`` through the one bounded decoder (:func:`llmswitch.base.bounded.decode_json`), or :data:`NO_JSON`."""
    return json_value(bounded.decode_json(text))


def json_value(decoded: bounded.Decoded) -> Any:
    """What the bounded decoder made of an answer: its value, or :data:`NO_JSON` when it refused it."""
    return decoded.value if decoded.refusal is None else NO_JSON


def message_of(data: Any, text: str, key: str | None) -> str | None:
    """The server's own words: ``error.message``, ``detail``, ``message``, an HTML title, or the text."""
    found: Any = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            found = error.get("message") or error.get("msg") or error.get("code")
        elif isinstance(error, str):
            found = error
        if not found:
            detail = data.get("detail")
            if isinstance(detail, list) and detail and isinstance(detail[0], dict):
                detail = detail[0].get("msg")
            found = detail if isinstance(detail, str) else None
        if not found:
            found = next((data[k] for k in ("message", "msg", "error_description") if isinstance(data.get(k), str)),
                         None)
    elif data is NO_JSON and text.strip():
        title = _TITLE_RE.search(text[:65536])
        found = title.group(1) if title else _TAG_RE.sub(" ", text[:2048])
    if not isinstance(found, str | int) or isinstance(found, bool):
        return None
    cleaned = " ".join(terminal_safe(scrub(str(found), key)).split())
    return terminal_safe(cleaned, MESSAGE_LIMIT) or None


def _model_list(data: Any) -> tuple[str, ...] | str | None:
    """Model ids from an OpenAI list; a reason string when the types are wrong; None when there is no list."""
    if isinstance(data, dict):
        if "data" not in data:
            return None
        items = data["data"]
        if not isinstance(items, list):
            return f"data is {type(items).__name__}, not a list"
    elif isinstance(data, list) and data and all(isinstance(i, dict) and "id" in i for i in data):
        items = data
    else:
        return None
    ids = []
    for item in items:
        if not isinstance(item, dict):
            return f"an entry is {type(item).__name__}, not an object"
        ident = item.get("id")
        if not isinstance(ident, str) or not ident:
            return "an entry has no string id"
        ids.append(terminal_safe(ident, MESSAGE_LIMIT))
    return tuple(ids)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta or HTTP date), uncapped; None when absent or nonsense."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # an HTTP date: rare, and email.utils is ~0.4 MB to hold for it

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None:
            return None
        try:
            seconds = when.timestamp() - time.time()
        except (OverflowError, OSError, ValueError):
            return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / infinite
        return None
    return max(seconds, 0.0)


def path_of(target: ProbeTarget) -> str:
    try:
        return terminal_safe(urlsplit(models_url(target)).path, 200)
    except ValueError:
        return "/models"


def not_found_fix(target: ProbeTarget) -> str:
    """Where to look when nothing is at the model list's path."""
    if target.api_kind == "azure":
        shape = ("the dated API with api_version " + terminal_safe(target.api_version, 40) if target.api_version
                 else "Azure's v1 API, as no api_version is set")
        return (f"check base_url is the resource endpoint (https://NAME.openai.azure.com; asked: {shape}); "
                f"for the dated API set api_version = \"{AZURE_GA_VERSION}\" in config.toml")
    if urls.ends_in_v1(target.base_url):  # "usually end in /v1" would send them round in a circle
        return "check the host, port and path of base_url, and copy the API address from the server's documentation"
    return "check base_url; OpenAI-compatible servers usually end in /v1"


def refused_url(target: ProbeTarget) -> Diagnosis | None:
    """INVALID_URL for a base URL we must not request: other schemes, embedded credentials, no host."""
    found = urls.problem(target.base_url, target.provider)
    if found is None:
        return None
    cause, fix = found
    return Diagnosis(Outcome.INVALID_URL, cause + ("; not requested" if "credentials" in cause else ""),
                     fix if "config.toml" in fix or "key set" in fix else f"{fix} in config.toml")


def cross_origin_redirect(status: int | None, destination: str, suffix: str = "/models") -> tuple[str, str, str | None]:
    """``(summary, fix, suggested base URL)`` for a redirect to another origin, which is never followed.

    The one wording of it: the probe and the SDK client (``llmswitch.net.http``) both say this.
    ``suffix`` is the path asked under base_url, so ``…/v1/chat/completions`` suggests ``…/v1``.
    """
    dest = redact_secrets(urls.safe(destination))  # a Location is the server's text: no key-shaped word shown
    dest_base = urls.base_for(dest, suffix)
    code = f" (HTTP {status})" if status is not None else ""
    summary = f"redirected{code} to another origin: {dest} — not followed, the key was not sent there"
    fix = (f"if that is the real API, change base_url to {dest_base} in config.toml" if dest_base
           else "point base_url at the API's own address")
    return summary, fix, dest_base


def scrub_diagnosis(diagnosis: Diagnosis, key: str | None) -> Diagnosis:
    """The diagnosis with the key scrubbed and control characters neutralised in every string.

    Server text (its message, its model ids) loses the key whatever its length; our own
    sentences lose keys long enough that they cannot be a word of ours (see ``scrub_own``).
    """
    def own(value: str | None) -> str | None:
        return None if value is None else terminal_safe(scrub_own(value, key))

    def theirs(value: str | None) -> str | None:
        return None if value is None else terminal_safe(scrub(value, key))

    return replace(diagnosis, summary=own(diagnosis.summary) or "", fix=own(diagnosis.fix),
                   server_message=theirs(diagnosis.server_message), server=own(diagnosis.server),
                   models=tuple(theirs(m) or "" for m in diagnosis.models))


def scrub_own(text: str, key: str | None) -> str:
    """``redact.scrub`` for llmswitch's own sentences: keys under ``MIN_SECRET_LENGTH`` are left alone.

    A short key (``ollama``) can be a word of ours — the provider id in ``run: llmswitch key set
    ollama`` — and server text inside our sentences was scrubbed where it was taken.
    """
    return scrub(text, key) if key and len(key) >= MIN_SECRET_LENGTH else text


def short(text: str, key: str | None) -> str:
    """Untrusted text for a server_message: one line, key scrubbed, terminal-safe, at most MESSAGE_LIMIT."""
    return terminal_safe(scrub(" ".join(text.split()), key), MESSAGE_LIMIT)
