"""No silent skips: a run that skipped a test fails, unless the skip names an opt-out the caller set.

``make test`` installs every optional part (the ``test`` extra, Chromium), so a skip there means a
test did not run for a reason nobody chose. A deliberate skip says so in its reason by naming a
``GOFTAR_NO_<THING>=1`` variable that is set in the environment (e.g. ``GOFTAR_NO_BROWSER=1``).

tests/conftest.py imports these hooks; tests/test_no_silent_skips.py runs them on a toy suite.
"""
from __future__ import annotations

import os
import re

import pytest

OPT_OUT = re.compile(r"\b(GOFTAR_NO_[A-Z_]+)=1\b")
_silent: list[str] = []


def _reason(report) -> str:
    rep = report.longrepr
    if isinstance(rep, tuple) and len(rep) == 3:
        return str(rep[2])
    return str(rep)


def _opted_out(reason: str) -> bool:
    return any(os.environ.get(name) == "1" for name in OPT_OUT.findall(reason))


def _note(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _reason(report)
        if not _opted_out(reason):
            _silent.append(f"{report.nodeid}: {reason}")


def pytest_collectreport(report) -> None:
    _note(report)


def pytest_runtest_logreport(report) -> None:
    _note(report)


def pytest_sessionfinish(session, exitstatus) -> None:
    if _silent and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _silent:
        terminalreporter.section("skipped without an opt-out (this run fails)", red=True)
        for line in _silent:
            terminalreporter.line(line)
        terminalreporter.line("Install what is missing (`make test` does), or name a GOFTAR_NO_<THING>=1 "
                              "variable in the skip's reason and set it.")
