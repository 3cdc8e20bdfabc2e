"""Screenshots and snapshot baselines are generated with real (fake) keys stored: none may show one."""

from __future__ import annotations

import re
from pathlib import Path

from upstreams import FAKE_KEY, OTHER_KEY

ROOT = Path(__file__).resolve().parents[2]
KEY_SHAPED = re.compile(r"(sk-[A-Za-z0-9_-]{12,}|gsk_[A-Za-z0-9]{12,})")
ARTIFACTS = sorted([*ROOT.glob("screenshots/*.svg"), *ROOT.glob("tests/snapshots/__snapshots__/**/*.svg")])


def test_there_are_artifacts_to_check():
    assert any(p.parent.name == "screenshots" for p in ARTIFACTS)


def test_no_key_in_screenshots_or_snapshots():
    for path in ARTIFACTS:
        text = path.read_text(encoding="utf-8")
        for secret in (FAKE_KEY, OTHER_KEY, "sk-test-not-a-real-key-env"):
            assert secret not in text, path
        assert not KEY_SHAPED.findall(text), (path, KEY_SHAPED.findall(text)[:3])
