"""The built wheel: it carries every data file the code reads, and installed outside the checkout it runs the
README's first commands (bundled programs resolved by name from the installed package)."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rasp", "compiler", "programs", "experiments")


def _checkout_files(*paths: str) -> list[str]:
    """The files of the checkout (tracked, and new ones git does not ignore), as a fresh clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [f for f in listed.stdout.split() if (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # built from a copy of the checkout's files, so that build/ and *.egg-info left in the checkout cannot leak in
    source = tmp_path_factory.mktemp("source")
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(source),
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
    ]
    subprocess.run(build, check=True, cwd=out, capture_output=True)
    (path,) = out.glob("*.whl")
    return path


def _tracked_data_files() -> list[str]:
    return [f for f in _checkout_files(*PACKAGES) if not f.endswith(".py")]


def test_the_wheel_carries_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = _tracked_data_files()
    assert "experiments/length/protocols.json" in data and "rasp/grammar.lark" in data
    missing = [f for f in data if f not in names]
    assert not missing, f"data files left out of the wheel (pyproject.toml package-data): {missing}"


def test_an_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, capture_output=True)
    python = env_dir / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    # the dependencies (numpy, lark, ...) from this environment's site-packages, read as plain directories: its
    # .pth files (the editable install of the checkout) are not processed, so the checkout stays out of reach
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": deps}
    where = subprocess.run(
        [str(python), "-c", "import rasp, programs; print(rasp.__file__); print(programs.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and str(env_dir) in where, where
    rasp_cli = env_dir / "bin" / "rasp"
    run = subprocess.run(
        [str(rasp_cli), "run", "reverse", "hello"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "olleh", run.stdout
    check = subprocess.run(
        [str(rasp_cli), "predict", "--brief", "majority"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert check.returncode == 0 and "✓" in check.stdout, check.stdout + check.stderr
