"""Benchmark inputs: N distinct demo calls, the generator's truth, word accuracy."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .common import DEMO, DEMO_TRUTH


def demo_files() -> list[Path]:
    return sorted(p for p in DEMO.iterdir() if p.suffix in (".wav", ".mp3"))


def make_corpus(dest: Path, n: int, *, only: list[str] | None = None) -> dict[str, str]:
    """Copy n demo calls into dest (cycling); returns {copy name: demo name}.

    Copies beyond the first round get a few trailing bytes (an ID3v1 tag for mp3, a
    RIFF JUNK chunk for wav) so their sha256, and so their call_id, differ while the
    decoded audio stays the same.
    """
    dest.mkdir(parents=True, exist_ok=True)
    sources = [p for p in demo_files() if only is None or p.name in only]
    made = {}
    for i in range(n):
        src = sources[i % len(sources)]
        copy_round = i // len(sources)
        name = src.name if copy_round == 0 else f"{src.stem}_copy{copy_round}{src.suffix}"
        target = dest / name
        shutil.copyfile(src, target)
        if copy_round:
            with open(target, "ab") as fh:
                fh.write(_trailer(src.suffix, copy_round))
        made[name] = src.name
    return made


def _trailer(suffix: str, copy_round: int) -> bytes:
    tag = f"copy {copy_round}".encode()
    if suffix == ".mp3":
        return b"TAG" + tag.ljust(30, b"\0") + b"\0" * 94 + b"\xff"  # 128-byte ID3v1
    payload = tag.ljust(16, b"\0")
    return b"JUNK" + len(payload).to_bytes(4, "little") + payload


def truth() -> dict[str, dict]:
    """The generator's truth per demo file name."""
    return {c["file"]: c for c in json.loads(DEMO_TRUTH.read_text())["calls"]}


def speech_seconds(call: dict) -> float:
    """Seconds of speech in a call: the sum of its true turns (each party's own time)."""
    return sum(t["end_s"] - t["start_s"] for t in call["turns"])


def normalize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def streams(turns, speaker_key="speaker", text_key="text") -> dict[str, list[str]]:
    """Words per speaker, in order: {'rep': [...], 'prospect': [...]}."""
    out: dict[str, list[str]] = {"rep": [], "prospect": []}
    for t in turns:
        out.setdefault(t[speaker_key], []).extend(normalize(t[text_key]))
    return out


def word_accuracy(ref_words: list[str], hyp_words: list[str]) -> tuple[int, int]:
    """(errors, reference words) ignoring speakers."""
    return edit_distance(ref_words, hyp_words), len(ref_words)


def attributed_errors(ref: dict[str, list[str]], hyp: dict[str, list[str]], *, permute: bool) -> tuple[int, int]:
    """(errors, reference words) with each speaker's words compared to that speaker's truth.

    A word given to the wrong speaker counts twice (missing from one stream, extra in the
    other). With `permute`, the better of the two speaker assignments is taken (for
    output that has no rep/prospect labels).
    """
    total = len(ref["rep"]) + len(ref["prospect"])
    same = edit_distance(ref["rep"], hyp.get("rep", [])) + edit_distance(ref["prospect"], hyp.get("prospect", []))
    if not permute:
        return same, total
    swapped = edit_distance(ref["rep"], hyp.get("prospect", [])) + edit_distance(ref["prospect"], hyp.get("rep", []))
    return min(same, swapped), total
