"""The audio half on a Ray cluster: a pool of actors that each load the models once.

Each actor runs `analyze.process_recording` (decode, transcribe, speakers, phrases,
embeddings, kinds, reactions) on recordings it reads by path, and returns plain
frozen records. The driver, the only process that writes the DuckDB file, stores
them in chunks as they arrive. Without `--engine ray` none of this is imported.

Faults: an actor that dies is restarted by Ray and its recording is retried
(`max_task_retries`), so nothing is lost; each recording is submitted once and
stored once by the driver, so nothing is stored twice. A recording that keeps
killing its worker becomes an `ingest_errors` row.
"""

from __future__ import annotations

import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Iterator, Sequence

from pipeline.core.errors import PitchlabError
from pipeline.core.records import Outcome, Recording
from pipeline.core.settings import Settings
from pipeline import worker
from pipeline.worker import default_models  # noqa: F401 (ray_engine.default_models, as before)

log = logging.getLogger(__name__)

TASK_RETRIES = 2  # a recording whose worker dies three times is recorded as failed
CHUNK_CALLS = 8  # results stored per transaction, at most
CHUNK_WAIT_S = 2.0  # ... or whatever arrived within this time


class Worker(worker.Worker):
    """One actor: a `worker.Worker` that first checks the recording is the driver's file on this node."""

    def process(self, recording: Recording, label: Outcome | None, rep_prints: dict | None):
        from pipeline.audio import ingest
        from pipeline.process import Processed

        where = socket.gethostname()
        if not recording.path.is_file():
            return Processed(recording, error=f"not found on worker node {where} at {recording.path}: the inbox must "
                             "be a shared path that every Ray node sees (docs/ray.md)")
        if ingest.sha256_of(recording.path) != recording.call_id:
            return Processed(recording, error=f"on worker node {where} {recording.path} is not the file the driver "
                             "saw (its sha256 differs): the inbox must be the same shared folder on every node")
        result = super().process(recording, label, rep_prints)
        if result.call is None and result.error is None:  # vanished while it ran
            return replace(result, error=f"vanished on worker node {where} while it was analyzed")
        return result


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise PitchlabError("--engine ray needs the ray extra: pip install -e '.[ray]' (or make setup-ray)") from exc
    return ray


@contextmanager
def session(address: str | None) -> Iterator[None]:
    """Joined to the cluster at `address` for the block; without one (and no RAY_ADDRESS, which `ray.init`
    reads itself), a local cluster on this machine that ends with the block. Already joined (a caller's
    `ray.init`): that one, left as it is."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray reports usage to its authors unless told not to
    ray = _ray()
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PitchlabError(f"cannot join the Ray cluster at {address or 'a new local cluster'} ({first}): "
                            "start one with `ray start --head`, or check --ray-address / RAY_ADDRESS") from exc
    try:
        yield
    finally:
        ray.shutdown()


def process(recordings: Sequence[Recording], settings: Settings, *, labels: dict[str, Outcome],
            rep_prints: dict | None = None, workers: int | None = None,
            make_models: Callable[[Settings], object] = default_models) -> Iterator[list]:
    """Analyze `recordings` on the cluster; yield lists of `analyze.Processed` as they arrive.

    `workers`: actors to start (default: the cluster's CPUs divided by each worker's threads).
    Each actor asks Ray for `settings.cpu_threads` CPUs and uses that many threads.
    """
    if not recordings:
        return
    ray = _ray()
    from pipeline.process import Processed

    threads = max(1, settings.cpu_threads)
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", threads)) // threads)
    workers = max(1, min(workers, len(recordings)))
    actor = ray.remote(num_cpus=threads, max_restarts=-1, max_task_retries=TASK_RETRIES)(Worker)
    settings = replace(settings, progress=False)
    pool = [actor.remote(settings, make_models) for _ in range(workers)]
    log.info("ray: %d workers of %d threads for %d recordings", workers, threads, len(recordings))
    # recordings are read by path on the workers: give them absolute paths
    todo = [replace(r, path=r.path.resolve()) for r in recordings]
    pending: dict = {}
    idle = list(pool)
    queue = list(reversed(todo))

    def submit():
        while idle and queue:
            who, rec = idle.pop(), queue.pop()
            ref = who.process.remote(rec, labels.get(rec.call_id), rep_prints)
            pending[ref] = (who, rec)

    try:
        submit()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=min(len(pending), CHUNK_CALLS), timeout=CHUNK_WAIT_S)
            if not ready:
                ready, _ = ray.wait(list(pending), num_returns=1)
            out = []
            for ref in ready:
                who, rec = pending.pop(ref)
                idle.append(who)
                try:
                    out.append(ray.get(ref))
                except ray.exceptions.RayActorError as exc:
                    out.append(Processed(rec, error=f"its Ray worker died {TASK_RETRIES + 1} times "
                                         f"({_first_line(exc)})"))
                except ray.exceptions.RayTaskError as exc:
                    out.append(Processed(rec, error=f"failed on a Ray worker: {_first_line(exc.cause or exc)}"))
            submit()
            yield out
    finally:
        for who in pool:
            ray.kill(who)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
