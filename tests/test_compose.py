"""compose.yaml stays honest: it parses, its roles are all there, and every command exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
PIPELINE_SERVICES = sorted(
    name for name, spec in SERVICES.items() if spec.get("command", [])[:3] == ["python", "-m", "pipeline"]
)


def test_the_topology_is_postgresql_two_web_two_schedulers_and_a_proxy() -> None:
    roles = {name: spec["command"][3] for name, spec in SERVICES.items() if name in PIPELINE_SERVICES}
    assert sorted(roles.values()) == ["db", "schedule", "schedule", "web", "web"]
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["proxy"]["image"].startswith("caddy:")
    for name in PIPELINE_SERVICES:  # every role reaches the one database and has the secret
        environment = SERVICES[name]["environment"]
        assert (
            environment["GOAL17_DATABASE_URL"].startswith("postgresql://goal17:")
            and "@db:5432/" in environment["GOAL17_DATABASE_URL"]
        )
        assert "GOAL17_SECRET" in environment
    for name, spec in SERVICES.items():
        depends = spec.get("depends_on", {})
        assert set(depends) <= set(SERVICES), f"{name} depends on an unknown service"
    assert (ROOT / "Dockerfile").is_file()


def test_the_proxy_sends_the_service_to_both_web_instances() -> None:
    mounted = [volume.split(":")[0] for volume in SERVICES["proxy"]["volumes"]]
    caddyfile = (ROOT / mounted[0]).read_text(encoding="utf-8")
    upstreams = set(re.findall(r"\b(web\d+):8080\b", caddyfile))
    assert upstreams == {name for name in PIPELINE_SERVICES if SERVICES[name]["command"][3] == "web"}


@pytest.mark.parametrize("service", PIPELINE_SERVICES)
def test_each_service_command_exists(service: str) -> None:
    command = SERVICES[service]["command"]
    words = [word for word in command[3:] if not word.startswith("-")][:2]  # "db migrate", "web"
    if words[0] != "db":
        words = words[:1]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *words, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    options = {word.split("=")[0] for word in command[3:] if word.startswith("--")}
    assert all(option in done.stdout for option in options), (options, done.stdout)
