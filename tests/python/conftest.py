"""pytest glue for tests/run.sh: every test's outcome is also printed as a
TAP-style line ("ok - name" / "not ok - name: reason"), which the runner
counts; skipped tests print nothing that counts as a pass."""
import os
import shutil
import subprocess

import pytest

BUILD = os.environ.get("SOMHOP_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
ROOT = os.environ.get("SOMHOP_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(BUILD, "bin", "somhop")


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::", 1)[-1]
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if report.passed:
            print("\nok - python: %s" % name, flush=True)
        elif report.failed:
            msg = str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""
            print("\nnot ok - python: %s: %s" % (name, msg), flush=True)
        elif report.skipped:
            print("\n# skip - python: %s" % name, flush=True)


@pytest.fixture(scope="session")
def cli():
    """Run the somhop CLI of this build; returns a function (args) -> CompletedProcess."""
    if not os.path.exists(CLI):
        pytest.fail("the CLI is not built at %s (run make first)" % CLI)
    env = dict(os.environ)
    env.setdefault("OCL_ICD_VENDORS", os.path.join(BUILD, "lib", "libsomhop_emu_icd.so"))

    def run(*args, check=True):
        p = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, env=env)
        if check and p.returncode != 0:
            raise AssertionError("somhop %s failed (%d): %s" % (" ".join(map(str, args)),
                                                                p.returncode, p.stderr))
        return p
    return run


@pytest.fixture(scope="session")
def iris():
    import numpy as np
    path = os.path.join(ROOT, "data", "iris.csv")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1, usecols=(0, 1, 2, 3))
    with open(path) as f:
        next(f)
        labels = [line.rstrip("\n").split(",")[4] for line in f if line.strip()]
    return path, raw, labels


@pytest.fixture(scope="session")
def digits():
    import numpy as np
    path = os.path.join(ROOT, "data", "digits.csv")
    raw = np.genfromtxt(path, delimiter=",", skip_header=1)
    return path, raw[:, :64], raw[:, 64].astype(int)


@pytest.fixture
def tmp(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
