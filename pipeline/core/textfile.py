"""Text files people give us (transcripts, the outcomes CSV): bytes to str, or the line that is not text."""

from __future__ import annotations

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class NotText(ValueError):
    """Bytes that do not decode; `line` is the 1-based line of the first bad byte."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def decode(raw: bytes) -> str:
    """UTF-8 (a byte-order mark is dropped), or UTF-16 when its byte-order mark says so.

    Anything else (Excel's "ANSI" cp1252, Latin-1, UTF-16 without a mark) is
    NotText naming the line and the byte, rather than a guess that could
    garble names silently.
    """
    utf16 = raw.startswith(UTF16_BOMS)
    try:
        return raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        if utf16:
            line = raw[: exc.start].decode("utf-16", errors="replace").count("\n") + 1
        else:
            line = raw[: exc.start].count(b"\n") + 1
        raise NotText(line, f"not {'UTF-16' if utf16 else 'UTF-8'} text (byte 0x{raw[exc.start]:02x})") from exc
