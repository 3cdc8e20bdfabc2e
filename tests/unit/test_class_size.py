"""No class in the package is a whole screen or a whole feature: each stays under LIMIT lines.

A class that grows past it is several parts (widgets that own their state, a flow in its own module,
a session apart from its commands); the failure names the class, where it is and how long it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import llmswitch

LIMIT = 300
PACKAGE = Path(llmswitch.__file__).parent


def class_lengths() -> list[tuple[str, int]]:
    """(``path:line ClassName``, lines from ``class`` to its last line) for every class, nested ones included."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - first + 1
                found.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}", length))
    return found


def test_every_module_is_read():
    assert len(class_lengths()) > 100  # the walk found the package (not an empty directory)


def test_no_class_is_over_the_limit():
    over = [f"{where} is {length} lines" for where, length in class_lengths() if length > LIMIT]
    assert not over, f"classes over {LIMIT} lines (split them into parts): " + "; ".join(over)
