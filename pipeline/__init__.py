"""Pitchlab: which ways of describing the product go with interested leads.

Stages, one module each: ingest -> transcribe -> speakers -> phrases ->
reactions -> embed -> cluster -> stats.  `pipeline.analyze.analyze` runs them.
"""

import os

# Nothing leaves the machine. onnxruntime (faster-whisper's Silero VAD) sends usage telemetry to
# mobile.events.data.microsoft.com from its native library unless this is set before it initializes;
# it reads the variable with getenv() once per process. 1.29-1.32 read ORT_DISABLE_TELEMETRY, later
# releases ORT_TELEMETRY_DISABLED. Set here, before any stage can import onnxruntime;
# tests/test_no_network.py watches a real analysis with strace.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["ORT_TELEMETRY_DISABLED"] = "1"
