"""Errors a user can act on. The CLI prints them as one line, never a traceback."""


class PitchlabError(Exception):
    """Bad input or set-up: the message says what is wrong and what to do next."""


class AudioError(PitchlabError):
    """One recording cannot be used; recorded in `ingest_errors`, the batch goes on."""


class ModelIntegrityError(PitchlabError):
    """A model file's sha256 does not match the pinned value."""


class ModelError(PitchlabError):
    """The Whisper model cannot be found or loaded: a set-up error, never one recording's fault."""


class DatabaseBusy(PitchlabError):
    """Another process holds the DuckDB file (DuckDB allows one writing process)."""
