"""The deployment files in deploy/ are valid as they stand (the two-host test runs them)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from harness import BIN, INSTALLED_AT, ROOT, UNITS

UNIT_FILES = sorted(path.name for path in UNITS.glob("*.service"))


def test_there_is_a_unit_for_the_web_and_each_loop():
    assert {"registry-web.service", "registry-sms.service", "registry-tick.service", "registry-migrate.service"} <= set(
        UNIT_FILES
    )


@pytest.mark.parametrize("unit", UNIT_FILES)
def test_systemd_accepts_the_unit(unit, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    environment_file = tmp_path / "registry.env"
    environment_file.write_text((UNITS / "registry.env.example").read_text())
    text = (
        (UNITS / unit)
        .read_text()
        .replace(f"{INSTALLED_AT}/.venv/bin", str(BIN))
        .replace(INSTALLED_AT, str(ROOT))
        .replace("/etc/registry/registry.env", str(environment_file))
    )
    (tmp_path / unit).write_text(text)
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True, cwd=tmp_path
    )
    problems = [
        line for line in (checked.stdout + checked.stderr).splitlines() if unit in line or "Unknown" in line
    ]  # not the host's own units' complaints
    assert checked.returncode == 0 and not problems, checked.stdout + checked.stderr


def test_every_setting_of_the_environment_example_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (UNITS / "registry.env.example").read_text()
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M)
    assert names
    undocumented = [name for name in names if f"`{name}`" not in readme and name != "FLASK_APP"]
    assert not undocumented
