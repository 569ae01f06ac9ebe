"""docker-compose.yml, the Dockerfile and the Makefile agree with the code they run.

Docker cannot run here, so these tests read the files: every project container runs a
real `voc` subcommand and sets only environment variables the settings classes read.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from services.api.config import ApiSettings
from services.cli import build_parser
from services.ingest.config import IngestSettings
from services.scoring.config import ScoringSettings
from shared.settings import CommonSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROJECT_SERVICES = sorted(name for name, spec in SERVICES.items() if "build" in spec)
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (
    CommonSettings,
    IngestSettings,
    ScoringSettings,
    ApiSettings,
)


def env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads: its prefix plus each field name."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    return {f"{prefix}{field}".upper() for field in cls.model_fields}


KNOWN_ENV = set().union(*(env_names(cls) for cls in SETTINGS_CLASSES))


def voc_commands() -> set[str]:
    """The top-level subcommands of `voc`."""
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("voc has no subcommands")


def environment(spec: dict[str, Any]) -> dict[str, Any]:
    """A service's environment, given either as a mapping or as a list of KEY=VALUE."""
    env = spec.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def healthcheck_command(spec: dict[str, Any]) -> str:
    test = spec.get("healthcheck", {}).get("test", [])
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


def test_the_project_image_runs_the_expected_services() -> None:
    assert set(PROJECT_SERVICES) == {"migrate", "ingest", "scoring", "dead-letters", "api"}, (
        f"services built from the project's image: {PROJECT_SERVICES}"
    )


@pytest.mark.parametrize("service", PROJECT_SERVICES)
def test_command_is_a_voc_subcommand(service: str) -> None:
    command = SERVICES[service].get("command")
    assert isinstance(command, list) and command, (
        f"{service}: command must be a non-empty list, got {command!r}"
    )
    commands = voc_commands()
    assert command[0] in commands, (
        f"{service}: command {command[0]!r} is not a voc subcommand; known: {sorted(commands)}"
    )


@pytest.mark.parametrize("service", PROJECT_SERVICES)
def test_every_variable_is_read_by_a_settings_class(service: str) -> None:
    env = environment(SERVICES[service])
    assert env, f"{service}: sets no environment"
    unknown = sorted(set(env) - KNOWN_ENV)
    assert not unknown, f"{service}: no settings class reads {', '.join(unknown)}"
    for required in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        assert env.get(required), f"{service}: {required} is not set"


@pytest.mark.parametrize("service", PROJECT_SERVICES)
def test_settings_accept_the_configured_values(service: str) -> None:
    env = {name: str(value) for name, value in environment(SERVICES[service]).items()}
    for cls in SETTINGS_CLASSES:
        names = env_names(cls)
        prefix = str(cls.model_config.get("env_prefix") or "")
        values = {
            name[len(prefix) :].lower(): value for name, value in env.items() if name in names
        }
        if cls is CommonSettings or values:
            try:
                cls.model_validate(values)
            except ValidationError as exc:
                raise AssertionError(
                    f"{service}: {cls.__name__} rejects its values: {exc}"
                ) from None


@pytest.mark.parametrize("service", sorted(set(PROJECT_SERVICES) - {"migrate"}))
def test_service_waits_for_migrate_to_complete(service: str) -> None:
    depends_on = SERVICES[service].get("depends_on") or {}
    assert isinstance(depends_on, dict), f"{service}: depends_on must use the long form"
    condition = (depends_on.get("migrate") or {}).get("condition")
    assert condition == "service_completed_successfully", (
        f"{service}: depends on migrate with condition {condition!r}, "
        "expected service_completed_successfully"
    )


def test_migrate_runs_once_after_kafka_and_postgres_are_healthy() -> None:
    migrate = SERVICES["migrate"]
    assert migrate.get("restart") == "no", (
        f"migrate: restart is {migrate.get('restart')!r}, expected 'no'"
    )
    for dependency in ("kafka", "postgres"):
        condition = (migrate.get("depends_on") or {}).get(dependency, {}).get("condition")
        assert condition == "service_healthy", (
            f"migrate: depends on {dependency} with condition {condition!r}, "
            "expected service_healthy"
        )


@pytest.mark.parametrize(("service", "port_var"), [("ingest", "INGEST_PORT"), ("api", "API_PORT")])
def test_http_services_check_readiness_on_their_port(service: str, port_var: str) -> None:
    spec = SERVICES[service]
    command = healthcheck_command(spec)
    assert command, f"{service}: has no healthcheck"
    settings_cls = IngestSettings if service == "ingest" else ApiSettings
    port = str(environment(spec).get(port_var) or settings_cls.model_fields["port"].default)
    assert f":{port}/readyz" in command, (
        f"{service}: healthcheck {command!r} does not call /readyz on port {port}"
    )
    published = [str(mapping).rsplit(":", 1)[-1] for mapping in spec.get("ports", [])]
    assert port in published, f"{service}: port {port} is not published (ports: {published})"
    host_var = port_var.replace("_PORT", "_HOST")
    assert environment(spec).get(host_var) == "0.0.0.0", (
        f"{service}: {host_var} must be 0.0.0.0 to be reachable from outside the container"
    )


def test_kafka_runs_the_official_image_in_kraft_mode() -> None:
    kafka = SERVICES.get("kafka")
    assert kafka, "no kafka service"
    assert str(kafka.get("image", "")).startswith("apache/kafka:"), (
        f"kafka: image {kafka.get('image')!r} is not the official apache/kafka"
    )
    roles = {role.strip() for role in str(environment(kafka).get("KAFKA_PROCESS_ROLES")).split(",")}
    assert {"broker", "controller"} <= roles, (
        f"kafka: KAFKA_PROCESS_ROLES is {sorted(roles)}, KRaft single node needs broker,controller"
    )
    assert str(environment(kafka).get("KAFKA_AUTO_CREATE_TOPICS_ENABLE")).lower() == "false", (
        "kafka: KAFKA_AUTO_CREATE_TOPICS_ENABLE must be false; migrate creates the topics"
    )
    assert "kafka-broker-api-versions.sh" in healthcheck_command(kafka), (
        "kafka: healthcheck should use kafka-broker-api-versions.sh"
    )
    zookeepers = [
        name
        for name, spec in SERVICES.items()
        if "zookeeper" in name.lower() or "zookeeper" in str(spec.get("image", "")).lower()
    ]
    assert not zookeepers, f"KRaft needs no ZooKeeper, found: {zookeepers}"


def test_postgres_has_a_healthcheck_and_a_named_volume() -> None:
    postgres = SERVICES["postgres"]
    assert "pg_isready" in healthcheck_command(postgres), "postgres: healthcheck needs pg_isready"
    volumes = [str(v).split(":", 1)[0] for v in postgres.get("volumes", [])]
    named = set(COMPOSE.get("volumes") or {})
    assert any(v in named for v in volumes), (
        f"postgres: volumes {volumes} include none of the named volumes {sorted(named)}"
    )


def dockerfile_instructions(name: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    pattern = rf"^\s*{name}\s+(.+?)\s*$"
    return re.findall(pattern, text, flags=re.IGNORECASE | re.MULTILINE)


def test_dockerfile_entrypoint_is_voc() -> None:
    entrypoints = dockerfile_instructions("ENTRYPOINT")
    assert entrypoints, "Dockerfile: no ENTRYPOINT"
    assert json.loads(entrypoints[-1]) == ["voc"], (
        f'Dockerfile: ENTRYPOINT is {entrypoints[-1]}, expected ["voc"]'
    )


def test_dockerfile_runs_as_a_non_root_user_without_healthcheck() -> None:
    users = dockerfile_instructions("USER")
    assert users, "Dockerfile: no USER, the image would run as root"
    assert users[-1] not in {"root", "0"}, f"Dockerfile: final USER is {users[-1]}"
    assert not dockerfile_instructions("HEALTHCHECK"), (
        "Dockerfile: health checks belong in docker-compose.yml"
    )


def test_makefile_documents_its_targets() -> None:
    text = (ROOT / "Makefile").read_text()
    targets = {
        match["target"]: match["rest"].partition("## ")[2].strip()
        for match in re.finditer(
            r"^(?P<target>[A-Za-z][\w-]*):(?!=)(?P<rest>.*)$", text, re.MULTILINE
        )
    }
    assert "help" in targets, "Makefile: no help target"
    for target in ("run", "test", "bench", "lint", "fmt", "up"):
        assert target in targets, f"Makefile: no {target} target"
        assert targets[target], f"Makefile: target {target} has no '## ' description"
