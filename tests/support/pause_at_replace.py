"""Run llmswitch's CLI in this process and stop for good at the Nth ``os.replace`` (a test kills it there with -9).

``python -m pause_at_replace N NAMES use up/m2``: only replaces onto files named in NAMES
(comma-separated, e.g. ``connections.json,config.toml``) count; the first N happen, at the next
one the temp file is written and fsynced but not yet renamed, the process prints ``paused PATH``
and sleeps until it is killed. With fewer than N+1 such replaces the command runs to its end
and prints nothing. A test helper only: llmswitch itself has no such switch.
"""

from __future__ import annotations

import os
import sys
import time

_real_replace = os.replace
_count = 0


def _paused_replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
    global _count
    if os.path.basename(os.fspath(dst)) in _names:
        if _count == _at:
            sys.stdout.write(f"paused {dst}\n")
            sys.stdout.flush()
            time.sleep(3600)
        _count += 1
    return _real_replace(src, dst, *args, **kwargs)


if __name__ == "__main__":
    _at = int(sys.argv[1])
    _names = set(sys.argv[2].split(","))
    os.replace = _paused_replace
    from llmswitch.cli.main import main

    sys.exit(main(sys.argv[3:]))
