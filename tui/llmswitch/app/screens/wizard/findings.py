"""What the setup wizard found and was told: keys in the environment, local servers, other tools' configs, URLs.

Shared by the wizard's steps (detection fills it, the choose step adds to it, the keys step reads it);
no Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ....services import onboarding

if TYPE_CHECKING:
    from ....base.outcome import ProbeResult
    from ....services.addurl import Examined
    from ....tools.importing import Found


@dataclass
class Findings:
    """Everything the wizard knows about the providers it may set up, before anything is written."""

    env_found: dict[str, str] = field(default_factory=dict)
    """Provider id → the environment variable that holds its key."""
    local_found: dict[str, ProbeResult] = field(default_factory=dict)
    """Local servers that answered, by preset id."""
    local_missing: tuple[str, ...] = ()
    local_urls: dict[str, str] = field(default_factory=dict)
    """Where each local server was looked for (its own variable, such as OLLAMA_HOST, may move it)."""
    custom: dict[str, Examined] = field(default_factory=dict)
    """Servers added by their URL or port, by the id they will have."""
    imported: dict[str, Found] = field(default_factory=dict)
    """What other tools' configs (and .env files) are set up with, by provider id (``llmswitch import``)."""
    extra: list[str] = field(default_factory=list)
    """Presets (and URLs) the person added by hand, in order."""

    def imported_for(self, pid: str) -> Found | None:
        """What another tool has for ``pid``, when nothing nearer (an env key, a server answering, a URL) does."""
        if pid in self.custom or pid in self.env_found or pid in self.local_found:
            return None
        return self.imported.get(pid)

    def asks_for_key(self, pid: str) -> bool:
        if pid in self.env_found:
            return False
        found = self.imported_for(pid)
        if found is not None and found.key is not None and found.key.kind in ("env", "command"):
            return False
        if pid in self.custom:
            return self.custom[pid].wants_key
        return onboarding.wants_key(pid, self.local_found.get(pid))

    def taken(self) -> set[str]:
        """Ids already spoken for in the wizard (a URL added later is named apart from them)."""
        return set(self.extra) | set(self.env_found) | set(self.local_found)

