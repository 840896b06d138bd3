"""The README's walkthrough runs as written: every command, in order, in an empty folder, each
creating what the next one uses (the files it names with --out, --labels and --store exist after it);
then the README's Python blocks run in the same folder, shrunk where they train."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough_commands() -> list[str]:
    text = README.read_text()
    block = re.search(r"<!-- walkthrough -->\s*```bash\n(.*?)```\s*<!-- /walkthrough -->", text, re.S)
    assert block, "README.md has no walkthrough block between <!-- walkthrough --> markers"
    commands = []
    for line in block.group(1).splitlines():
        command = re.sub(r"\s+#\s.*$", "", line).strip()  # a comment starts with " # "
        if command and not command.startswith("source "):
            commands.append(command)
    return commands


def test_the_walkthrough_names_only_what_it_creates():
    made: set[str] = set()
    for command in walkthrough_commands():
        words = shlex.split(command)
        assert words[0] == "geniot", command
        for flag in ("--store",):
            if flag in words and words[0:2] != ["geniot", "import"]:
                assert words[words.index(flag) + 1] in made, f"{command}: uses a store no earlier command made"
        for flag in ("--out", "--labels", "--store"):
            if flag in words:
                made.add(words[words.index(flag) + 1])
        inputs = [w for w in words[2:3] if not w.startswith("-")]
        for name in inputs:
            if words[1] not in ("simulate", "ask", "models"):
                assert name in made, f"{command}: reads {name}, which no earlier command made"


def test_the_walkthrough_runs(tmp_path):
    env = {**os.environ, "GENIOT_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    for command in walkthrough_commands():
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"$ {command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        words = shlex.split(command)
        for flag in ("--out", "--labels", "--store"):
            if flag in words:
                assert (tmp_path / words[words.index(flag) + 1]).exists(), f"$ {command} did not create {words[words.index(flag) + 1]}"
    run_python_blocks(tmp_path, env)


#: what the Python blocks' test shrinks so that they run in seconds (README text -> test text)
SMALLER = {"max_minutes=10": "max_minutes=0.05", "sample(1000": "sample(20"}


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_python_blocks_are_shrunk_where_they_train():
    text = "".join(python_blocks())
    assert python_blocks(), "README.md has no Python blocks"
    for long in SMALLER:
        assert long in text, f"the README's Python no longer says {long!r}: update SMALLER"


def run_python_blocks(folder: Path, env: dict) -> None:
    """Every ```python block of the README, in the walkthrough's folder (they read its files)."""
    for block in python_blocks():
        code = block
        for long, short in SMALLER.items():
            code = code.replace(long, short)
        done = subprocess.run([sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"README Python block failed:\n{block}\n{done.stderr[-3000:]}"
