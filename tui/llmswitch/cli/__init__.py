"""``llmswitch`` command line: :func:`main` (the console script's entry point, ``llmswitch.cli:main``).

Layout: ``main.py`` dispatches and renders failures, ``parser.py`` builds the parser
lazily, ``output.py`` prints, ``commands/`` has one module per command group. Importing
this package loads only ``main.py``, which imports nothing beyond ``sys``.
"""

from .main import main

__all__ = ["main"]
