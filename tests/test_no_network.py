"""Nothing leaves the machine, watched where it would happen: the system calls of a real process.

Blocking Python's sockets (tests/test_e2e.py) cannot see native libraries: onnxruntime's own
telemetry uploader (faster-whisper's Silero VAD loads it) resolved mobile.events.data.microsoft.com
from C++ about 9 s after import. Here `strace -f` records every connect/sendto/sendmsg of the
process and its threads, and any address that is not a local (AF_UNIX/AF_NETLINK) one fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TEST_CALLS
from pipeline.storage import db

STRACE = shutil.which("strace")
# onnxruntime stays quiet by itself under these (CI detection); the user's shell has none of them,
# so neither does the process under test: it must be Pitchlab that switches telemetry off.
CI_VARIABLES = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL",
                "CODEBUILD_BUILD_ID", "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER",
                "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "ORT_RUNNING_UNIT_TESTS", "ORT_DISABLE_TELEMETRY",
                "ORT_TELEMETRY_DISABLED")
LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK"}


def user_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES}
    env["PYTHONPATH"] = str(ROOT)
    return env


def remote_attempts(trace: str) -> list[str]:
    """strace lines of connect/sendto/sendmsg calls that name a non-local address family (or DNS bytes)."""
    out = []
    for line in trace.splitlines():
        families = set(re.findall(r"sa_family=(AF_\w+)", line))
        if families - LOCAL_FAMILIES or "mobile\\6events" in line:
            out.append(line)
    return out


def traced(tmp_path: Path, argv: list[str], *, timeout: float) -> str:
    if STRACE is None:
        if os.environ.get("CI"):
            pytest.fail("strace is missing: CI must install it (apt-get install strace)")
        pytest.skip("strace is not installed (apt-get install strace): cannot watch native network calls")
    log = tmp_path / "strace.txt"
    done = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log), *argv],
                          capture_output=True, text=True, env=user_env(), cwd=tmp_path, timeout=timeout)
    if "ptrace" in done.stderr and "Operation not permitted" in done.stderr:
        if os.environ.get("CI"):
            pytest.fail(f"strace cannot trace here: {done.stderr.strip()}")
        pytest.skip(f"strace cannot trace in this container: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr[-2000:]
    return log.read_text()


def test_the_filter_sees_a_dns_lookup():
    """The parser must recognise what onnxruntime did before the fix (lines from a real strace)."""
    before = (
        '11899 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0\n'
        '11899 sendto(8, "\\245B\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0\\6mobile\\6events\\4data\\t"..., 50, MSG_NOSIGNAL, NULL, 0) = 50\n'
        '11898 connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT\n'
    )
    assert len(remote_attempts(before)) == 2


def test_importing_the_pipeline_switches_onnxruntime_telemetry_off(tmp_path):
    """onnxruntime with the VAD loaded, then 12 s idle (its uploader resolved the host after ~9 s)."""
    trace = traced(tmp_path, [sys.executable, "-c",
                              "import time, pipeline, onnxruntime\n"
                              "from faster_whisper.vad import get_vad_model\n"
                              "get_vad_model()\n"
                              "time.sleep(12)"], timeout=120)
    assert remote_attempts(trace) == []


@pytest.mark.e2e
def test_analyzing_a_recording_attempts_no_connection(tmp_path):
    """One real recording through the CLI (Whisper, VAD, voice prints, spaCy, MiniLM): no remote address at all."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(TEST_CALLS / "short_mono.mp3", inbox)
    trace = traced(tmp_path, [sys.executable, "-m", "pipeline", "analyze", "--inbox", str(inbox),
                              "--db", str(tmp_path / "c.duckdb"), "--no-progress"], timeout=900)
    assert remote_attempts(trace) == []
    with db.opened(tmp_path / "c.duckdb", read_only=True) as con:  # the analysis really ran
        assert con.execute("SELECT count(*) FROM turns").fetchone()[0] > 0
