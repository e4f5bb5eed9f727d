"""scripts/test without Chromium: installs it with apt when it runs as root, otherwise
stops before running any test with the exact command to run. `apt-get` and `id` are
stand-ins on PATH, so the test changes nothing on the machine."""

import subprocess

import pytest

from tests.project import ROOT, environment


def stand_in(bin_dir, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path):
    path = tmp_path / "bin"
    path.mkdir()
    return path


def run_test_script(bin_dir, chromium):
    return subprocess.run(
        [ROOT / "scripts" / "test", "--collect-only", "-q", "tests/scripts/test_install.py"],
        cwd=ROOT,
        env=environment(PATH=f"{bin_dir}:{environment()['PATH']}", CHROMIUM_PATH=str(chromium)),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_as_root_a_missing_chromium_is_installed_with_apt_then_the_tests_run(tmp_path, bin_dir):
    chromium = tmp_path / "chromium"
    calls = tmp_path / "apt-calls"
    stand_in(bin_dir, "id", 'echo 0\n')
    stand_in(bin_dir, "apt-get", f'echo "$*" >> {calls}\n'
                                 f'case "$*" in *install*) printf "#!/bin/sh\\n" > {chromium}; chmod +x {chromium};; esac\n')

    done = run_test_script(bin_dir, chromium)

    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
    assert "Installing Chromium for the browser tests" in done.stderr
    assert "test_install.py" in done.stdout  # pytest ran after the install


def test_not_root_a_missing_chromium_stops_before_running_with_the_command(tmp_path, bin_dir):
    chromium = tmp_path / "chromium"
    calls = tmp_path / "apt-calls"
    stand_in(bin_dir, "id", 'echo 1000\n')
    stand_in(bin_dir, "apt-get", f'echo "$*" >> {calls}\n')

    done = run_test_script(bin_dir, chromium)

    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"error: the browser tests need Chromium at {chromium}. "
        "Install it with: sudo apt-get install -y chromium (or set CHROMIUM_PATH)"
    )
    assert done.stdout == "" and not calls.exists()
