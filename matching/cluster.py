"""Where a match run's county tasks run: on Dask distributed, or in this process.

`open_executor(settings, tasks)` gives a Dask client — to the scheduler at DASK_SCHEDULER_ADDRESS, or to a
LocalCluster of worker processes (one per core, MATCH_WORKER_MEMORY each, spilling to disk beyond it) —
or, for a run of a single county without a configured cluster, the in-process executor, which runs the
very same task functions one after another (starting worker processes would cost more than the county).
Both offer the small part of Dask's futures API the planner uses: submit (optionally on a preferred
worker), gather, as_completed.
"""
import contextlib
import os
from collections.abc import Callable, Iterable, Iterator

from core.settings import Settings


class Done:
    """A finished in-process task, shaped like a Dask future."""

    def __init__(self, key: str, value):
        self.key = key
        self._value = value

    def result(self):
        return self._value


class InProcessExecutor:
    """Runs each task at once in this process; arguments that are Done are replaced by their values."""

    def worker_addresses(self) -> list[str]:
        return []

    def submit(self, function: Callable, *args, key: str, retries: int = 0, worker: str | None = None,
               **kwargs) -> Done:
        args = [arg.result() if isinstance(arg, Done) else arg for arg in args]
        return Done(key, function(*args, **kwargs))

    def gather(self, futures: list[Done]) -> list:
        return [future.result() for future in futures]

    def as_completed(self, futures: Iterable[Done]) -> Iterator[Done]:
        return iter(list(futures))


class DaskExecutor:
    """A Dask distributed client with the planner's calls (tasks keyed by name, retried on failure)."""

    def __init__(self, client):
        self.client = client

    def worker_addresses(self) -> list[str]:
        """The workers now in the cluster, in a stable order."""
        return sorted(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def submit(self, function: Callable, *args, key: str, retries: int = 0, worker: str | None = None, **kwargs):
        """`worker`: where the task should run if that worker can (any other worker may take it: one that is
        lost does not hold the run up)."""
        if worker is not None:
            kwargs.update(workers=[worker], allow_other_workers=True)
        return self.client.submit(function, *args, key=key, retries=retries, pure=False, **kwargs)

    def gather(self, futures: list) -> list:
        return self.client.gather(futures)

    def as_completed(self, futures):
        from distributed import as_completed

        return as_completed(futures)


MALLOC_THRESHOLD = 8 * 2**20  # local workers' glibc trim and mmap thresholds (see open_executor)


def local_workers(settings: Settings) -> int:
    """Worker processes of the local cluster: MATCH_WORKERS, or one per core this process may use."""
    return settings.match_workers or len(os.sched_getaffinity(0))


@contextlib.contextmanager
def open_executor(settings: Settings, tasks: int):
    """An executor for a run of `tasks` county tasks (see the module); closed (and its cluster stopped) on exit."""
    if settings.dask_scheduler_address is None and (tasks <= 1 or settings.match_cluster == "inprocess"):
        yield InProcessExecutor()
        return
    from distributed import Client, LocalCluster

    if settings.dask_scheduler_address:
        with Client(settings.dask_scheduler_address, timeout="30s") as client:
            yield DaskExecutor(client)
        return
    import dask

    (settings.var_dir / "dask").mkdir(parents=True, exist_ok=True)
    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=64 KiB (give freed memory back at once), which also
    # freezes glibc's mmap threshold at 128 KiB: every numpy array beyond it is then mapped and unmapped
    # again, and the page faults took a quarter of the workers' CPU while preparing counties. Both at
    # 8 MiB: measured at 1,000,000 households, system time 2 s per worker instead of 7.6 s, prepare 33 s
    # instead of 40 s, the same resident memory. (Unset, glibc kept so much freed memory that workers
    # passed their memory limit and were restarted.)
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}),
               "MALLOC_TRIM_THRESHOLD_": MALLOC_THRESHOLD, "MALLOC_MMAP_THRESHOLD_": MALLOC_THRESHOLD}
    # Worker processes, one thread each: the tasks are CPU-bound numpy / OR-Tools work that holds the GIL in
    # parts. No dashboard: it needs bokeh, and a run needs no web port of its own.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            LocalCluster(n_workers=local_workers(settings), threads_per_worker=1, processes=True,
                         memory_limit=settings.match_worker_memory, dashboard_address=None,
                         local_directory=str(settings.var_dir / "dask")) as cluster, Client(cluster) as client:
        yield DaskExecutor(client)
