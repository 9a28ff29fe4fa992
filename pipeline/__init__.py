"""Pitchlab: which ways of describing the product go with interested leads.

Stages, one module each: ingest -> transcribe -> speakers -> phrases ->
reactions -> embed -> cluster -> stats.  `pipeline.analyze.analyze` runs them.
"""

__version__ = "0.1.0"
