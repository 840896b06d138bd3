"""Real processes: a Flower SuperLink, one SuperNode per site, and the run submitted to them.

Nothing is downloaded: the Flower app folder (a ``pyproject.toml`` naming geniot's ServerApp and
ClientApp, with the plan in its run config) is written at run time into a work folder, and the
SuperLink runs with ``--disable-runtime-dependency-installation`` (geniot is already installed
where the processes run). Every process gets its own ``FLWR_HOME`` inside the work folder, runs in
its own session, and is stopped by its process id.

The connections are ``--insecure`` (no TLS) and meant for loopback or a trusted network.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from geniot.core.exceptions import MissingExtraError
from geniot.federated.plan import FederatedPlan
from geniot.federated.server_flow import FederationError

CONNECTION = "geniot"

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "geniot-federated"
version = "1.0.0"
description = "geniot federated training (generated at run time)"
license = "Apache-2.0"
dependencies = []

[tool.flwr.app]
publisher = "geniot"

[tool.flwr.app.components]
serverapp = "geniot.federated.apps:server_app"
clientapp = "geniot.federated.apps:client_app"

[tool.flwr.app.config]
plan = {plan}
"""


def flower_binary(name: str) -> str:
    """A Flower executable from this Python's environment (or PATH)."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise MissingExtraError(f"{name!r} is not installed; install it with: pip install 'geniot[federated]'")
    return found


def flower_env(home: Path) -> dict[str, str]:
    """Environment for a Flower process: its own FLWR_HOME, this environment's executables first
    (the SuperLink and SuperNode start helpers by name), one torch thread per process."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["FLWR_HOME"] = str(home)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONUNBUFFERED"] = "1"
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    return env


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise FederationError(f"the process serving {host}:{port} exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.3)
    raise FederationError(f"nothing listens on {host}:{port} after {timeout_s:.0f} s")


def write_app(folder: Path, plan: FederatedPlan) -> Path:
    """The Flower app folder for ``plan`` (JSON in a TOML basic string: json.dumps is valid TOML)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(PYPROJECT.format(plan=json.dumps(plan.to_json())))
    return folder


def write_connection(home: Path, host: str, port: int) -> None:
    """The SuperLink connection `flwr run` uses (``[superlink.geniot]`` in FLWR_HOME/config.toml)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\naddress = "{host}:{port}"\ninsecure = true\n'
    )


def _popen(cmd: list[str], env: dict[str, str], log: Path | None, **kwargs) -> subprocess.Popen:
    out = subprocess.DEVNULL if log is None else log.open("ab")
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)


def start_superlink(work: Path, *, host: str = "127.0.0.1", port: int, log: Path | None = None) -> subprocess.Popen:
    cmd = [
        flower_binary("flower-superlink"), "--insecure", "--host", host, "--port", str(port),
        "--disable-runtime-dependency-installation",
    ]  # fmt: skip
    return _popen(cmd, flower_env(work / "superlink-home"), log)


def supernode_command(site: str, superlink: str, port: int) -> list[str]:
    node_config = f"site={json.dumps(str(Path(site).expanduser().resolve()))}"
    return [
        flower_binary("flower-supernode"), "--insecure", "--superlink", superlink,
        "--port", str(port), "--node-config", node_config,
    ]  # fmt: skip


def start_supernode(work: Path, site: str, *, superlink: str, port: int, log: Path | None = None) -> subprocess.Popen:
    home = work / f"supernode-{port}-home"
    return _popen(supernode_command(site, superlink, port), flower_env(home), log)


@dataclass
class JoinOutcome:
    """How a site's part in a federation ended: ``done`` (the coordinator said the run is over,
    ``summary`` holds its final figures), ``coordinator_gone`` or ``node_exited`` (with its code)."""

    how: str
    summary: dict | None = None
    code: int = 0


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def join_federation(site: str, superlink: str, home: Path, *, port: int, gone_after_s: float = 30.0,
                    poll_s: float = 0.5, on_state=None) -> JoinOutcome:  # fmt: skip
    """Run this site's SuperNode until the run is over, then stop it and every process it started.

    A SuperNode on its own waits for runs forever; geniot's ServerApp tells each site when its run
    is over (``query.done``), and the ClientApp leaves the summary in a file this loop watches. If
    the coordinator's port stays closed for ``gone_after_s`` after it was reachable, the site
    leaves too (the coordinator stopped or crashed) and says so. ``on_state(text)`` hears changes.
    """
    from geniot.federated.client_app import DONE_FILE_ENV

    home.mkdir(parents=True, exist_ok=True)
    done_file = home / "run-done.json"
    done_file.unlink(missing_ok=True)
    env = {**flower_env(home), DONE_FILE_ENV: str(done_file)}
    node = _popen(supernode_command(site, superlink, port), env, home / "supernode.log")
    seen, closed_since = False, None
    try:
        while True:
            if done_file.is_file():
                return JoinOutcome("done", json.loads(done_file.read_text()))
            if node.poll() is not None:
                return JoinOutcome("node_exited", code=int(node.returncode))
            if _reachable(superlink):
                if not seen and on_state is not None:
                    on_state(f"connected to the coordinator at {superlink}")
                seen, closed_since = True, None
            elif seen:
                closed_since = closed_since or time.monotonic()
                if time.monotonic() - closed_since > gone_after_s:
                    return JoinOutcome("coordinator_gone")
            time.sleep(poll_s)
    finally:
        stop(node)  # its whole process group: the SuperNode and the ClientApp processes it started


def submit_run(work: Path, plan: FederatedPlan, *, host: str, port: int) -> subprocess.Popen:
    """`flwr run APP geniot --stream` for ``plan``; its output (the streamed log) is piped."""
    app = write_app(work / "app", plan)
    home = work / "cli-home"
    write_connection(home, host, port)
    cmd = [flower_binary("flwr"), "run", str(app), CONNECTION, "--stream"]
    return subprocess.Popen(
        cmd, env=flower_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, bufsize=1,
    )  # fmt: skip


def stop(process: subprocess.Popen | None, timeout_s: float = 10.0) -> None:
    """Stop a process we started, and its process group, by its id (TERM, then KILL)."""
    if process is None or process.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout_s)
            return
        except subprocess.TimeoutExpired:
            continue


def serve_federation(
    plan: FederatedPlan,
    work: Path,
    *,
    host: str = "127.0.0.1",
    port: int,
    on_line=None,
    on_ready=None,
    timeout_s: float = 3600.0,
) -> dict:
    """Start a SuperLink, submit ``plan``, relay the streamed log, stop the SuperLink.

    ``on_ready(address)`` is called once the SuperLink listens (tell the sites to join);
    ``on_line(text)`` gets every line of the run's log. Returns the saved ``federation.json``.
    """
    from geniot.federated.server_flow import RESULT_FILE

    if not plan.out:
        raise FederationError("the plan has no output folder (out) to save the global model to")
    work.mkdir(parents=True, exist_ok=True)
    result = Path(plan.out) / RESULT_FILE
    before = result.stat().st_mtime_ns if result.is_file() else None
    superlink = run = None
    try:
        superlink = start_superlink(work, host=host, port=port, log=work / "superlink.log")
        wait_for_port(host, port, 60.0, superlink)
        if on_ready is not None:
            on_ready(f"{host}:{port}")
        run = submit_run(work, plan, host=host, port=port)
        deadline = time.monotonic() + timeout_s
        for line in run.stdout:
            if on_line is not None:
                on_line(line.rstrip("\n"))
            if time.monotonic() > deadline:
                raise FederationError(f"the federated run did not finish within {timeout_s:.0f} s")
        run.wait(timeout=30)
    finally:
        stop(run)
        stop(superlink)
    if not result.is_file() or result.stat().st_mtime_ns == before:
        raise FederationError(f"the run ended without saving a model to {plan.out} (log: {work / 'superlink.log'})")
    return json.loads(result.read_text())
