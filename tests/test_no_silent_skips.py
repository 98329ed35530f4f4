"""tests/skipguard.py: a skip without an opt-out fails the run; a skip naming a set GOFTAR_NO_*=1 does not."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT

CONFTEST = ("from tests.skipguard import (pytest_collectreport, pytest_runtest_logreport,\n"
            "    pytest_sessionfinish, pytest_terminal_summary)\n")


def _run(tmp_path, body: str, **env) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_toy.py").write_text("import pytest\n\n\ndef test_runs():\n    assert True\n\n\n" + body, encoding="utf-8")
    full = {k: v for k, v in os.environ.items() if k != "GOFTAR_NO_TOY"}
    full.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
                           "--rootdir", str(tmp_path), str(tmp_path)],
                          cwd=tmp_path, env=full, capture_output=True, text=True, timeout=60)


def test_a_plain_skip_fails_the_run(tmp_path):
    r = _run(tmp_path, "def test_missing():\n    pytest.skip('onnxruntime not installed')\n")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "skipped without an opt-out" in r.stdout and "onnxruntime not installed" in r.stdout


def test_a_module_level_importorskip_fails_the_run(tmp_path):
    r = _run(tmp_path, "pytest.importorskip('no_such_module_xyz')\n")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no_such_module_xyz" in r.stdout


def test_a_skip_naming_a_set_opt_out_passes(tmp_path):
    body = "def test_toy():\n    pytest.skip('GOFTAR_NO_TOY=1: switched off')\n"
    assert _run(tmp_path, body, GOFTAR_NO_TOY="1").returncode == 0
    r = _run(tmp_path, body)  # named, but not set: still a silent skip
    assert r.returncode == 1 and "GOFTAR_NO_TOY" in r.stdout
