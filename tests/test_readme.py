"""The README's walkthrough runs as written: every command, in order, in an empty folder, each
creating what the next one uses (the files it names with --out, --labels and --store exist after it)."""

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
