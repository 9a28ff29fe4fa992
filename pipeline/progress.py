"""Progress on a terminal: one bar over the batch's calls, showing the file and the stage it is in.

Quiet when stderr is not a terminal (or progress is off): `stage` then does nothing.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_bar = None  # the active bar of this process, if any


def calls(items: list[T], *, enabled: bool, describe=str) -> Iterator[T]:
    """Iterate over `items`, with a bar on a terminal; `describe(item)` names the current one."""
    global _bar
    if not enabled or not sys.stderr.isatty():
        yield from items
        return
    from tqdm import tqdm

    with tqdm(items, unit="call", desc="analyzing", file=sys.stderr) as bar:
        _bar = bar
        try:
            for item in bar:
                bar.set_description(f"analyzing {describe(item)}")
                yield item
        finally:
            _bar = None


def stage(name: str) -> None:
    """Say which stage the current call is in (transcribe, speakers, phrases, …)."""
    if _bar is not None:
        _bar.set_postfix_str(name, refresh=True)
