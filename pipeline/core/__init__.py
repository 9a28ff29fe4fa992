"""Errors, frozen records, private files, settings, model files: imports no other package."""
