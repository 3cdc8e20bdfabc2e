"""Shared test set-up.

``tests/`` is on ``sys.path`` (pytest's rootdir-relative import of this
conftest puts it there), so test modules can ``from upstreams import ...``.

Hypothesis profiles: ``default`` (200 examples, CI-friendly) and ``long``
(10 000), chosen with ``HYPOTHESIS_PROFILE=long``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from upstreams import upstream  # noqa: F401 - fixture: a factory of fake upstream servers

settings.register_profile("default", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
