"""Reading the deployment files the way their tools do: kustomize renders, compose interpolation,
Dockerfile instructions, .dockerignore rules. No Docker engine or cluster is needed."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.once import one_worker_at_a_time

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
GATEWAY_IMAGE = "payment-gateway"  # the name of our image in compose and in the manifests


def kustomizations() -> list[Path]:
    """The base and every overlay, each a folder with a kustomization.yaml."""
    return sorted(path.parent for path in K8S.rglob("kustomization.yaml"))


def overlays() -> list[Path]:
    return sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))


def render(folder: Path) -> list[dict]:
    """`kubectl kustomize FOLDER`, parsed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FileNotFoundError("kubectl")
    out = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"kubectl kustomize {folder.relative_to(ROOT)} failed:\n{out.stderr}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    matches = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_spec(workload: dict) -> dict:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def is_gateway(container: dict) -> bool:
    return image_name(container["image"]) == GATEWAY_IMAGE


def image_name(image: str) -> str:
    """`registry/path/name:tag` or `...name@sha256:...` -> name."""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


# --- compose -------------------------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; comments and blank lines ignored (the subset of the dotenv format we use)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>.*))?$", re.S)


class InterpolationError(ValueError):
    pass


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's variable substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error}."""
    return _VARIABLE.sub(lambda match: _substitute(match, values), text)


def _substitute(match: re.Match, values: dict[str, str]) -> str:
    if match.group(0) == "$$":
        return "$"
    if match.group("plain"):
        return values.get(match.group("plain"), "")
    parts = _BRACED.match(match.group("braced"))
    if parts is None:
        raise InterpolationError(f"invalid substitution {match.group(0)!r}")
    name, op, arg = parts.group("name", "op", "arg")
    value = values.get(name)
    missing = value is None or (value == "" and op in (":-", ":?"))
    if op in (":?", "?") and missing:
        raise InterpolationError(f"{name} is required: {arg}")
    if op in (":-", "-") and missing:
        return arg
    return value or ""


def referenced_variables(text: str) -> set[str]:
    names = set()
    for match in _VARIABLE.finditer(text):
        if match.group("plain"):
            names.add(match.group("plain"))
        elif match.group("braced") is not None:
            parts = _BRACED.match(match.group("braced"))
            if parts:
                names.add(parts.group("name"))
    return names


def as_env(environment) -> dict[str, str]:
    """A service's `environment:` (mapping or KEY=VALUE list) as strings, like compose passes it."""
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {key: "" if value is None else _scalar(value) for key, value in (environment or {}).items()}


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def command_line(command) -> str:
    return command if isinstance(command, str) else " ".join(command)


# --- Dockerfile and .dockerignore ------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_instructions(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``relative`` out (last matching rule wins, ! re-includes)."""
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        rule = pattern[1:] if negate else pattern
        if _ignore_rule_matches(rule.strip("/"), relative):
            excluded = not negate
    return excluded


def _ignore_rule_matches(rule: str, relative: str) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    if rule.startswith("**/"):
        tail = rule[3:]
        return any(fnmatch.fnmatchcase(part, tail) for part in parts) or any(
            fnmatch.fnmatchcase(prefix, tail) for prefix in prefixes
        )
    return any(fnmatch.fnmatchcase(prefix, rule) for prefix in prefixes)


def dockerignore_patterns(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


# The Compose Specification schema as the dclint package (MIT) ships it on the npm registry: fetched by
# name and version, never copied into this repository.
COMPOSE_SCHEMA_PACKAGE = "dclint@3.1.0"
COMPOSE_SCHEMA_MEMBER = "package/schemas/compose.schema.json"
COMPOSE_SCHEMA_CACHE = Path(sys.prefix) / "share" / "payment-gateway" / "compose.schema.json"


class SchemaUnavailable(RuntimeError):
    pass


def compose_schema() -> dict:
    with one_worker_at_a_time(COMPOSE_SCHEMA_CACHE):
        if not COMPOSE_SCHEMA_CACHE.exists():
            _fetch_compose_schema()
    return json.loads(COMPOSE_SCHEMA_CACHE.read_text())


def _fetch_compose_schema() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SchemaUnavailable(f"npm is needed once to fetch the Compose schema ({COMPOSE_SCHEMA_PACKAGE})")
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [npm, "pack", COMPOSE_SCHEMA_PACKAGE, "--pack-destination", folder],
            capture_output=True,
            text=True,
            timeout=180,
        )
        tarballs = list(Path(folder).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            raise SchemaUnavailable(f"npm pack {COMPOSE_SCHEMA_PACKAGE} failed: {result.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[0]) as tarball:
            schema = tarball.extractfile(COMPOSE_SCHEMA_MEMBER).read()
    COMPOSE_SCHEMA_CACHE.parent.mkdir(parents=True, exist_ok=True)
    COMPOSE_SCHEMA_CACHE.write_bytes(schema)
