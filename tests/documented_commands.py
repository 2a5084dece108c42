"""The shell commands the README and docs/ show, and a fresh copy of the project to run them in.

A command is a line of a fenced ``bash`` block (continuation lines joined, trailing ``# comment``
removed), as a user would paste it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^( *)```bash\n(.*?)^\1```", re.M | re.S)


@dataclass(frozen=True)
class Command:
    file: str  # relative to the project root
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def strip_comment(line: str) -> str:
    """``line`` without a trailing shell comment (a ``#`` outside quotes after a blank)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def commands_in(path: Path) -> list[Command]:
    text = path.read_text()
    found = []
    for block in FENCE.finditer(text):
        first_line = text[: block.start(2)].count("\n") + 1
        pending, start = "", 0
        for offset, raw in enumerate(block.group(2).splitlines()):
            line = strip_comment(raw.strip())
            if not pending:
                start = first_line + offset
            if line.endswith("\\"):
                pending += line[:-1].strip() + " "
                continue
            command = (pending + line).strip()
            pending = ""
            if command:
                found.append(Command(str(path.relative_to(ROOT)), start, command))
    return found


def documented_commands() -> list[Command]:
    """Every command of README.md and docs/**/*.md, in file order."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [command for path in files for command in commands_in(path)]


def documented(prefix: str, file: str = "README.md") -> str:
    """The one command of ``file`` that starts with ``prefix``."""
    matches = [c.text for c in documented_commands() if c.file == file]
    matches = [text for text in matches if text.startswith(prefix)]
    assert len(matches) == 1, f"{file} should show one command starting {prefix!r}: {matches}"
    return matches[0]


def path_without_venv() -> str:
    """A new user's PATH: this one without any folder holding dbt, dagster or kpi (the
    project's ``.venv/bin`` is never on it unless the venv is activated)."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    dirs = [d for d in dirs if not any((Path(d) / t).exists() for t in ("dbt", "dagster", "kpi"))]
    return os.pathsep.join(dirs or ["/usr/bin", "/bin"])


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user's shell on a fresh clone: no venv activated, nothing set."""
    return {
        "HOME": str(home),
        "PATH": path_without_venv(),
        "LANG": "C.UTF-8",
        "PYTHONWARNINGS": "ignore",
        **extra,
    }


PREPARED = ("manifest.json", "partial_parse.msgpack")  # what `kpi prepare` leaves in target/


def fresh_clone(dest: Path) -> Path:
    """A clone after ``scripts/setup``: the project's files (tracked and new, as git sees them)
    copied to ``dest``, the installed ``.venv`` linked in, and the dbt manifest ``kpi prepare``
    wrote."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    target = dest / "dbt_project" / "target"
    target.mkdir(parents=True, exist_ok=True)
    for name in PREPARED:
        shutil.copy2(ROOT / "dbt_project" / "target" / name, target)
    return dest
