"""Azure OpenAI's two URL shapes, built in one place: the probe, ``--deep``, ``env``/``exec`` and ``client()``.

Which shape is chosen by whether the provider sets ``api_version``:

* **v1 API** (no ``api_version``): ``{endpoint}/openai/v1/models`` and
  ``{endpoint}/openai/v1/chat/completions``, no dated ``api-version``; the deployment is
  named in the request's ``model``. Any OpenAI client works with
  ``base_url = {endpoint}/openai/v1`` (:func:`openai_base`).
* **dated API** (``api_version = "2024-10-21"``): the list at
  ``{endpoint}/openai/models?api-version=…`` and chat at
  ``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…``, which is
  what ``openai.AzureOpenAI(azure_endpoint=endpoint, api_version=…)`` requests.

``endpoint`` is the resource root (``https://NAME.openai.azure.com``); a base_url pasted
with ``/openai``, ``/openai/v1`` or ``/openai/deployments/NAME`` is reduced to it. The key
goes in the ``api-key`` header. Azure's model list names the resource's *base models*, not
its deployments: whether the selected deployment exists is judged by a chat request to it.
Stdlib only.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

__all__ = ["V1_PATH", "chat_url", "endpoint", "models_url", "openai_base"]

V1_PATH = "/openai/v1"


def endpoint(base_url: str) -> str:
    """The resource root: ``https://r.openai.azure.com/openai/v1/`` → ``https://r.openai.azure.com``."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    at = path.lower().rfind("/openai")
    tail = path.lower()[at:] if at >= 0 else ""
    if tail in ("/openai", V1_PATH):
        path = path[:at]
    else:
        at = path.lower().rfind("/openai/deployments/")
        path = path[:at] if at >= 0 else path
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def openai_base(base_url: str, api_version: str | None) -> str | None:
    """The ``base_url`` for a plain OpenAI client (v1 API); None for the dated API (use ``AzureOpenAI``)."""
    return None if api_version else endpoint(base_url) + V1_PATH


def _dated(url: str, api_version: str) -> str:
    return f"{url}?{urlencode({'api-version': api_version})}"


def models_url(base_url: str, api_version: str | None) -> str:
    """Where the model list is: v1 ``…/openai/v1/models``, dated ``…/openai/models?api-version=…``."""
    if not api_version:
        return endpoint(base_url) + V1_PATH + "/models"
    return _dated(endpoint(base_url) + "/openai/models", api_version)


def chat_url(base_url: str, api_version: str | None, deployment: str) -> str:
    """Where a chat completion goes: v1 ``…/openai/v1/chat/completions``, dated ``…/deployments/D/…``."""
    if not api_version:
        return endpoint(base_url) + V1_PATH + "/chat/completions"
    name = quote(deployment, safe="")
    return _dated(f"{endpoint(base_url)}/openai/deployments/{name}/chat/completions", api_version)
