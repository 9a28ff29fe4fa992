"""Progress on a terminal: one bar over the batch's calls, showing the file (or chunk) and the stage it is in.

Quiet when stderr is not a terminal (or progress is off): `stage` then does nothing.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_bar = None  # the active bar of this process, if any


def calls(items: list[T], *, enabled: bool, describe=str) -> Iterator[T]:
    """Iterate over `items`, with a bar on a terminal; `describe(item)` names the current one."""
    for group in batches([[item] for item in items], enabled=enabled, describe=describe):
        yield group[0]


def batches(groups: list[list[T]], *, enabled: bool, describe=str) -> Iterator[list[T]]:
    """Iterate over groups of calls with one bar counting calls, advanced when a group is done.

    The bar names the group's first call (`describe(item)`) and how many more it holds.
    """
    global _bar
    if not enabled or not sys.stderr.isatty():
        yield from groups
        return
    from tqdm import tqdm

    with tqdm(total=sum(len(g) for g in groups), unit="call", desc="analyzing", file=sys.stderr) as bar:
        _bar = bar
        try:
            for group in groups:
                more = f" and {len(group) - 1} more" if len(group) > 1 else ""
                bar.set_description(f"analyzing {describe(group[0])}{more}")
                yield group
                bar.update(len(group))
        finally:
            _bar = None


def arriving(groups: Iterable[list[T]], *, total: int, enabled: bool, describe=str) -> Iterator[list[T]]:
    """Groups of finished calls as they arrive (from a cluster), with one bar counting calls.

    The bar advances when the consumer is done with a group (has stored it) and names its last call.
    """
    if not enabled or not sys.stderr.isatty():
        yield from groups
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="call", desc="analyzing", file=sys.stderr) as bar:
        for group in groups:
            yield group
            if group:
                bar.set_description(f"stored {describe(group[-1])}")
            bar.update(len(group))


def stage(name: str) -> None:
    """Say which stage the current call is in (transcribe, speakers, phrases, …)."""
    if _bar is not None:
        _bar.set_postfix_str(name, refresh=True)
