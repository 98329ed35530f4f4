"""The package's shape: import names, the one-way dependency, the runtime's light imports, the wheel."""
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError(f'{name} is blocked in this test')
        return None
sys.meta_path.insert(0, _Block())
"""


def run_blocked(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    prog = f"BLOCKED = {blocked!r}\n{BLOCKER}\n{code}"
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120)


def run_without(tmp_path, missing: list[str], code: str) -> subprocess.CompletedProcess:
    """Run code in an interpreter whose site-packages lacks ``missing``, as if never installed.

    A copy of site-packages made of links, minus those packages, is the only
    site directory (``-S`` skips the real one); its .pth files still map the
    editable goftar install.
    """
    import site
    import sysconfig

    real = Path(sysconfig.get_paths()["purelib"])
    shadow = tmp_path / "site"
    shadow.mkdir()
    for entry in real.iterdir():
        base = re.split(r"[-.]", entry.name)[0].lower()
        if base not in missing:
            (shadow / entry.name).symlink_to(entry)
    prog = f"import site; site.addsitedir({str(shadow)!r})\n{code}"
    return subprocess.run([sys.executable, "-S", "-c", prog], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_inference_imports_without_training_dependencies(tmp_path):
    r = run_without(tmp_path, ["datasets", "seqeval", "accelerate"], (
        "import importlib.util\n"
        "assert importlib.util.find_spec('datasets') is None, 'datasets still visible'\n"
        "import goftar.inference as gi\n"
        "from goftar.inference.extractor import Extractor\n"
        "from goftar.inference.modeling import GoftarModel\n"
        "from goftar.inference import predict, validate, quotes, formats\n"
        "print('ok', gi.Extractor.__name__)\n"
    ))
    assert r.returncode == 0, r.stderr
    assert "ok Extractor" in r.stdout


def test_inference_never_imports_training():
    offenders = []
    for f in (ROOT / "inference").rglob("*.py"):
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"^\s*(from|import)\s+(goftar\.training|\.\.+training|training)\b", line):
                offenders.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()}")
    assert offenders == []


def test_cli_parser_builds_without_heavy_imports():
    r = run_blocked(["torch", "transformers", "datasets", "seqeval", "accelerate"], (
        "from goftar.cli import build_parser\n"
        "p = build_parser()\n"
        "print(sorted(p._subparsers._group_actions[0].choices))\n"
    ))
    assert r.returncode == 0, r.stderr
    for cmd in ("validate", "predict", "train", "evaluate", "score", "convert"):
        assert f"'{cmd}'" in r.stdout


def test_wheel_maps_folders_into_one_package(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("goftar-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for must in ("goftar/inference/extractor.py", "goftar/inference/schema.yaml", "goftar/training/train.py",
                 "goftar/configs/schema.yaml", "goftar/inference/formats/tokens.py",
                 "goftar/inference/formats/labelstudio.py"):
        assert must in names, must
    assert "goftar/cli/predict.py" in names and "goftar/cli/convert.py" in names
    assert not [n for n in names if "encoder_build" in n or n.startswith(("tools/", "goftar/tools/"))], \
        "the offline-encoder bootstrap is a repository tool, not part of the package"
    from goftar.inference import __version__

    assert wheel.name.startswith(f"goftar-{__version__}-"), wheel.name  # the version comes from the one string
    assert zipfile.ZipFile(wheel).read("goftar/configs/schema.yaml") == (ROOT / "inference" / "schema.yaml").read_bytes()
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "goftar = goftar.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_one_version_string_and_one_schema_file():
    """pyproject, the runtime and the checkpoint writer share goftar.inference.__version__; one schema.yaml."""
    import tomllib

    from goftar.inference import __version__
    from goftar.inference.modeling import GOFTAR_VERSION

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "goftar.inference.__version__"}
    assert GOFTAR_VERSION == __version__
    assert re.search(r'^__version__ = "[^"]+"', (ROOT / "inference" / "__init__.py").read_text(encoding="utf-8"), re.M)
    # configs/schema.yaml is the packaged copy of the one real file, inference/schema.yaml
    assert (ROOT / "configs" / "schema.yaml").read_bytes() == (ROOT / "inference" / "schema.yaml").read_bytes()
