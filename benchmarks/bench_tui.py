"""The picker under the whole catalog: filter keystrokes, first paint, peak memory.

Each measurement runs in its own subprocess (fresh interpreter, temp config
dirs, no network: the only providers point at closed 127.0.0.1 ports), the
subject (the real app) and a baseline alternately:

(a) filter keystroke p90 on 5,000 models — the work one keystroke triggers on
    the event loop (filter + refill + drawing the visible lines), typed through
    Pilot; baseline: a bare Textual app with the same widgets re-filled per
    keystroke by a plain substring filter. Target: p90 ≤ 8 ms.
(b) first paint — from spawning the process to the first refresh of the
    picker, and to the "Whole catalog" view drawn when it is asked for right
    after the first paint; baseline: a bare app with the same widgets that
    builds and shows all rows before its first paint.
    Target: first paint ≤ 1.05× baseline; catalog ready ≤ 1.5× baseline.
(c) peak RSS at the end of (b), the whole catalog shown and the picker's first
    probe sweep ended (it imports the transport; the RSS was read while that
    import could still be under way until 2026-12-06). Target: ≤ 1.2× baseline.
    The RSS at first paint is printed too (for information: the catalog is not
    loaded until its view is opened).

The children run with bytecode caches warm (written to a temporary
PYTHONPYCACHEPREFIX on a first run), as an installed copy does, whatever
PYTHONDONTWRITEBYTECODE says in the calling shell.

It reports; it does not assert. ``python benchmarks/bench_tui.py`` or
``python benchmarks/run.py bench_tui``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 5000
PAINT_ROUNDS = 9
QUERIES = ("gpt-4o-mini", "claude sonnet", "llama 70b", "qwen coder", "gemini flash", "o3")
P90_TARGET_MS = 8.0  # issue 9: raised from 16 ms
PAINT_TARGET = 1.05  # issue 9: first paint ≤ 1.05× the bare app
CATALOG_TARGET = 1.5
RSS_TARGET = 1.2  # issue 9: TUI peak RSS ≤ 1.2× the bare app
SIZE = (100, 30)
SWEEP_WAIT = 10.0
"""Longest wait for the picker's first probe sweep before its peak RSS is read (its servers refuse at once)."""


# -- shared by the children -------------------------------------------------------------------

def _rows(n: int = ROWS):
    from llmswitch.services.models import make_row, sort_rows
    from llmswitch.store import catalog

    models = catalog.all_models()
    rows, i = [], 0
    while len(rows) < n:
        pid, info = models[i % len(models)]
        suffix = "" if i < len(models) else f"-v{i // len(models)}"
        rows.append(make_row(pid, info.id + suffix, info))
        i += 1
    return sort_rows(rows)


def _draw_visible(model_list) -> None:
    for y in range(model_list.size.height):
        model_list.render_line(y)


def _keystrokes() -> list[str]:
    keys: list[str] = []
    for query in QUERIES:
        keys += ["space" if ch == " " else ch for ch in query]
        keys += ["backspace"] * len(query)
    return keys


def _bare_app(rows, on_filter=None):
    from textual.app import App
    from textual.containers import Horizontal, Vertical
    from textual.widgets import Footer, Input, OptionList, Static

    from llmswitch.app.widgets.model_list import ModelHeader, ModelList

    class Bare(App):
        def compose(self):
            yield Static("bar")
            with Horizontal():
                yield OptionList("All providers", "Whole catalog")
                with Vertical():
                    yield Input(id="filter", compact=True)
                    yield ModelHeader()
                    yield ModelList()
                    yield Static("count")
            yield Static("details")
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(ModelList).set_rows(rows)
            self.query_one(Input).focus()

        def on_input_changed(self, event) -> None:
            started = time.perf_counter()
            query = event.value.lower()
            self.query_one(ModelList).set_rows([r for r in rows if query in r.haystack] if query else rows)
            _draw_visible(self.query_one(ModelList))
            if on_filter:
                on_filter(time.perf_counter() - started)

    return Bare()


def _env(tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMSWITCH_", "OPENAI_", "OPENROUTER_"))}
    env.update(LLMSWITCH_CONFIG_DIR=f"{tmp}/config", LLMSWITCH_CACHE_DIR=f"{tmp}/cache",
               LLMSWITCH_STATE_DIR=f"{tmp}/state", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
               PYTHONPYCACHEPREFIX=f"{tmp}/pycache")  # warm bytecode, as an installed copy has
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(tmp: str) -> None:
    config = Path(tmp, "config")
    config.mkdir(parents=True, mode=0o700)
    (config / "config.toml").write_text(
        f'[providers.box-a]\nbase_url = "http://127.0.0.1:{_closed_port()}/v1"\nkey_source = "none"\n\n'
        f'[providers.box-b]\nbase_url = "http://127.0.0.1:{_closed_port()}/v1"\nkey_source = "none"\n')


# -- children ---------------------------------------------------------------------------------

async def _child_filter(subject: bool) -> dict:
    times: list[float] = []
    rows = _rows()
    if subject:
        from llmswitch.app.app import LLMSwitchApp
        from llmswitch.app.screens.picker import CATALOG
        from llmswitch.app.widgets.model_list import ModelList
        from llmswitch.store.config import load

        app = LLMSwitchApp(config=load())
    else:
        app = _bare_app(rows, times.append)
    async with app.run_test(size=SIZE) as pilot:
        if subject:
            picker = app.picker
            while any(w.group == "catalog" and not w.is_finished for w in picker.workers):
                await pilot.pause(0.02)
            options = picker.query_one("#providers")
            options.highlighted = options.get_option_index(CATALOG)
            await pilot.pause(0.05)
            picker.browser.catalog_rows = rows
            picker.rebuild_rows()
            original = picker.browser.apply_filter
            model_list = picker.query_one(ModelList)

            def timed(*args, **kwargs):
                started = time.perf_counter()
                original(*args, **kwargs)
                _draw_visible(model_list)
                times.append(time.perf_counter() - started)

            picker.browser.apply_filter = timed
            picker.query_one("#filter").focus()
            await pilot.pause(0.05)
        for key in _keystrokes():
            await pilot.press(key)
    times_ms = sorted(t * 1000 for t in times)
    return {"p90": times_ms[int(len(times_ms) * 0.9) - 1], "median": statistics.median(times_ms), "n": len(times_ms)}


async def _child_paint(subject: bool, spawned: float) -> dict:
    import asyncio
    import resource

    result: dict[str, float] = {}
    if subject:
        from llmswitch.app.app import LLMSwitchApp
        from llmswitch.app.screens.picker import CATALOG
        from llmswitch.store.config import load

        app = LLMSwitchApp(config=load())
    else:
        app = _bare_app(_rows())
    async with app.run_test(size=SIZE) as pilot:
        painted = asyncio.Event()
        screen = app.picker if subject else app.screen
        while subject and (app.picker is None or not app.picker.is_mounted):
            await asyncio.sleep(0.001)
            screen = app.picker
        screen.call_after_refresh(painted.set)
        await painted.wait()
        result["first_paint"] = time.time() - spawned
        result["paint_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if subject:
            picker = app.picker
            options = picker.query_one("#providers")
            options.highlighted = options.get_option_index(CATALOG)
            while picker.browser.catalog_rows is None:
                await asyncio.sleep(0.001)
            shown = asyncio.Event()
            picker.call_after_refresh(shown.set)
            await shown.wait()
            result["catalog_ready"] = time.time() - spawned
        else:
            result["catalog_ready"] = result["first_paint"]
        await pilot.pause(0.05)
        if subject:  # the first probe sweep (started after the first paint) has imported its transport and ended
            providers = app.picker.provider_list
            waited = time.monotonic()
            while (any(w.group == "probe" and not w.is_finished for w in providers.workers)
                   and time.monotonic() - waited < SWEEP_WAIT):
                await asyncio.sleep(0.005)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _child(mode: str, spawned: float) -> None:
    import asyncio

    subject = mode.endswith("subject")
    if mode.startswith("filter"):
        out = asyncio.run(_child_filter(subject))
    else:
        out = asyncio.run(_child_paint(subject, spawned))
    print(json.dumps(out))


# -- parent -----------------------------------------------------------------------------------

def _spawn(mode: str, tmp: str) -> dict:
    spawned = time.time()
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(spawned)], env=_env(tmp),
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="llmswitch-bench-tui-") as tmp:
        _prepare(tmp)
        filt = {"subject": _spawn("filter-subject", tmp), "baseline": _spawn("filter-baseline", tmp)}
        paints: dict[str, list[dict]] = {"subject": [], "baseline": []}
        _spawn("paint-baseline", tmp)  # warm the OS caches and write the bytecode caches
        _spawn("paint-subject", tmp)
        for _ in range(PAINT_ROUNDS):
            for who in ("subject", "baseline"):
                paints[who].append(_spawn(f"paint-{who}", tmp))

    def med(who: str, key: str) -> float:
        return statistics.median(p[key] for p in paints[who])

    p90, base_p90 = filt["subject"]["p90"], filt["baseline"]["p90"]
    first, base_first = med("subject", "first_paint"), med("baseline", "first_paint")
    ready = med("subject", "catalog_ready")
    rss, base_rss = med("subject", "rss_mb"), med("baseline", "rss_mb")
    paint_rss, base_paint_rss = med("subject", "paint_rss_mb"), med("baseline", "paint_rss_mb")
    return [
        {"name": f"filter keystroke p90, {ROWS:,} models", "target": f"≤ {P90_TARGET_MS:g} ms",
         "measured": f"{p90:.1f} ms", "passed": p90 <= P90_TARGET_MS,
         "detail": f"baseline {base_p90:.1f} ms, ratio {p90 / base_p90:.2f}×, {filt['subject']['n']} keystrokes"},
        {"name": "first paint vs bare app", "target": f"≤ {PAINT_TARGET:g}×", "measured": f"{first / base_first:.2f}×",
         "passed": first / base_first <= PAINT_TARGET,
         "detail": f"{first * 1000:.0f} ms vs {base_first * 1000:.0f} ms"},
        {"name": "whole catalog shown vs bare app", "target": f"≤ {CATALOG_TARGET:g}×",
         "measured": f"{ready / base_first:.2f}×", "passed": ready / base_first <= CATALOG_TARGET,
         "detail": f"{ready * 1000:.0f} ms vs {base_first * 1000:.0f} ms"},
        {"name": "peak RSS vs bare app", "target": f"≤ {RSS_TARGET:g}×", "measured": f"{rss / base_rss:.2f}×",
         "passed": rss / base_rss <= RSS_TARGET,
         "detail": f"{rss:.0f} MB vs {base_rss:.0f} MB; at first paint {paint_rss:.0f} MB vs {base_paint_rss:.0f} MB"},
    ]


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        _child(sys.argv[2], float(sys.argv[3]))
    else:
        for row in run():
            print(f"{row['name']:<40} {row['target']:>9} {row['measured']:>9}  "
                  f"{'PASS' if row['passed'] else 'FAIL'}  ({row['detail']})")
