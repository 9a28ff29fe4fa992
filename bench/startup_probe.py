"""`python bench/startup_probe.py ARGS...`: the real `pitchlab ARGS...`, noting when things happened.

Prints, as its last line, JSON of wall-clock times (time.time()): `started` (this script began), `cli_imported`,
`first_stored` (the first call's rows committed), `cpu:first_stored` (CPU seconds used by then) and, for each model the run loaded, `load:NAME` (seconds it took,
on whichever thread loaded it). Works on any checkout of Pitchlab with `analyze.Models` (PYTHONPATH picks which).
"""

import time

STARTED = time.time()

import contextlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from functools import cached_property  # noqa: E402

marks = {"started": STARTED}

from pipeline import cli  # noqa: E402

marks["cli_imported"] = time.time()


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def instrument() -> None:
    from pipeline import analyze
    from pipeline.storage import store

    for name, prop in list(vars(analyze.Models).items()):
        if isinstance(prop, cached_property):
            load = prop.func

            def timed(self, load=load, name=name):
                t = time.perf_counter()
                try:
                    return load(self)
                finally:
                    marks["load:" + name] = marks.get("load:" + name, 0.0) + time.perf_counter() - t

            prop.func = timed
    write_calls = store.write_calls

    def noted(*args, **kwargs):
        out = write_calls(*args, **kwargs)
        if "first_stored" not in marks:
            marks["first_stored"] = time.time()
            marks["cpu:first_stored"] = _cpu()  # CPU seconds of every thread so far: less hurt by a busy machine
        return out

    store.write_calls = noted


instrument()
marks["instrumented"] = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    rc = cli.main(sys.argv[1:])
marks = {k: (v - STARTED if k not in ("started", "first_stored") and not k.startswith(("load:", "cpu:")) else v)
         for k, v in marks.items()}
print(json.dumps(marks))
sys.exit(rc)
