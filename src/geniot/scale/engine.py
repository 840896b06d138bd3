"""Where scale-out tasks run: in this process one after another ("serial") or on Ray workers.

Both engines run the same task function through :func:`run_task`, so a task gives the same
result wherever it runs: it sees one torch thread (as a Ray worker with one CPU would) and gets
its inputs as arguments. Large inputs shared by many tasks (a fitted detector scored over many
chunks) go through :meth:`Engine.share`: a plain reference in serial, one ``ray.put`` on Ray.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from geniot.core.exceptions import GeniotError

ENGINES = ("serial", "ray")
Progress = Callable[[int, int], None]


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """torch and the BLAS under numpy on one thread for the task, then back to what the caller
    had: tasks run side by side on a machine's cores, and the same thread count is what keeps
    serial and Ray results equal to the last bit (a sum split over threads rounds differently)."""
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:  # pragma: no cover - torch-free installs run torch-free models only
        torch = None
    before = None if torch is None else torch.get_num_threads()
    with threadpool_limits(limits=1):
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def run_task(fn: Callable[..., Any], *args: Any) -> Any:
    """One task, the same way on every engine. (Arguments stay top-level so that Ray hands
    shared object references to the task as the objects themselves.)"""
    with single_thread():
        return fn(*args)


class SerialEngine:
    """Runs the tasks in this process, in order: the reference the Ray engine must match."""

    name = "serial"

    def __enter__(self) -> SerialEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def share(self, obj: Any) -> Any:
        return obj

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple], *, progress: Progress | None = None) -> list:
        results = []
        for i, args in enumerate(tasks):
            results.append(run_task(fn, *args))
            if progress is not None:
                progress(i + 1, len(tasks))
        return results


class RayEngine:
    """Runs the tasks on Ray workers (one CPU each): a local Ray started here, or the cluster at
    ``address`` (``"auto"``, ``"ray://head:10001"``). A Ray this process already joined is
    reused and left running; one started here is shut down on exit."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        object_store_memory: int | None = None,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.object_store_memory = object_store_memory
        self._ray = None
        self._started = False
        self._remote = None

    def __enter__(self) -> RayEngine:
        from geniot.core.extras import require

        # Ray warns on every start that it will stop overriding device variables; geniot runs
        # on CPUs, so take the future behaviour now.
        os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
        ray = require("ray", "scale")
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                kwargs["address"] = self.address
            else:  # "local": a new Ray of our own, even where `ray start` runs one (use "auto" for that)
                kwargs["address"] = "local"
                kwargs["num_cpus"] = self.num_cpus
                kwargs["object_store_memory"] = self.object_store_memory
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = f"the Ray cluster at {self.address!r}" if self.address else "a local Ray"
                raise GeniotError(f"could not start {where}: {exc}") from exc
            self._started = True
        self._ray = ray
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._started and self._ray is not None:
            self._ray.shutdown()
        self._ray, self._started, self._remote = None, False, None

    def _require_started(self):
        if self._ray is None:
            raise GeniotError("the Ray engine is not started; use it as `with RayEngine(...) as engine:`")
        return self._ray

    def share(self, obj: Any) -> Any:
        """Put ``obj`` in Ray's object store once; tasks that take the reference get the object."""
        return self._require_started().put(obj)

    def map(self, fn: Callable[..., Any], tasks: Sequence[tuple], *, progress: Progress | None = None) -> list:
        ray = self._require_started()
        refs = [self._remote.remote(fn, *args) for args in tasks]
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                if progress is not None:
                    progress(len(refs) - len(pending), len(refs))
            return ray.get(refs)
        except ray.exceptions.RayTaskError as exc:
            # The task's own error (e.g. a DataError naming the asset), not Ray's wrapper.
            raise exc.as_instanceof_cause() from None
        finally:
            for ref in pending:
                ray.cancel(ref)


def make_engine(
    name: str,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    object_store_memory: int | None = None,
) -> SerialEngine | RayEngine:
    """An engine by name; Ray's address defaults to the ``GENIOT_RAY_ADDRESS`` setting."""
    if name == "serial":
        return SerialEngine()
    if name == "ray":
        if address is None:
            from geniot.core.settings import get_settings

            address = get_settings().ray_address
        return RayEngine(address, num_cpus=num_cpus, object_store_memory=object_store_memory)
    raise GeniotError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
