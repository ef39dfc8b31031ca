"""Every Python example of docs/env.md runs as written: the ``>>>`` rollout as a doctest (its
printed shapes, channel count and burned areas are those of the code), the other blocks as scripts
in a fresh interpreter (so the ParallelEnv example needs, and has, its ``__main__`` guard)."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "env.md"
SHARED = Path(os.environ.get("FUELRL_SHARED", REPO.parent / "shared")).resolve()


def python_blocks() -> list[tuple[int, str]]:
    text = DOC.read_text()
    return [
        (text[: m.start()].count("\n") + 2, m.group(1))
        for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S)
    ]


def test_the_page_has_a_doctest_and_scripts():
    blocks = python_blocks()
    assert any(b.lstrip().startswith(">>>") for _, b in blocks)
    assert any("make_env(" in b and 'if __name__ == "__main__":' in b for _, b in blocks)


@pytest.mark.parametrize("line", [n for n, b in python_blocks() if b.lstrip().startswith(">>>")])
def test_doctest_block(line):
    block = dict(python_blocks())[line]
    test = doctest.DocTestParser().get_doctest(block, {}, f"docs/env.md:{line}", str(DOC), line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


@pytest.mark.slow
@pytest.mark.parametrize("line", [n for n, b in python_blocks() if not b.lstrip().startswith(">>>")])
def test_script_block(line, tmp_path):
    block = dict(python_blocks())[line]
    if "../shared" in block and not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    script = tmp_path / "example.py"
    script.write_text(block.replace("../shared", str(SHARED)))
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=900, cwd=tmp_path
    )
    assert proc.returncode == 0, f"docs/env.md:{line}\n{proc.stderr[-3000:]}"
