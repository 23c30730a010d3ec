"""Set a release's parameters in an overlay: its version label and its images (stdlib only).

    python3 k8s/release.py k8s/overlays/prod 0.2.0 \
        payment-gateway=registry.example.com/payment-gateway@sha256:<digest> mysql=mysql@sha256:<digest>

The version goes into the overlay's ``labels:`` entry that has ``includeSelectors: false``: on every
object's metadata and pod template, never into a selector. ``kustomize edit set label`` would write
``commonLabels`` instead, which kustomize adds to every selector: the API server refuses the new
selector of each Deployment and StatefulSet (immutable) while the Services and NetworkPolicies take
it, and then select no running pod, nor Strimzi's brokers (Strimzi never copies
``app.kubernetes.io/version`` onto its pods). Each image argument ``name=newName@sha256:digest``
(or ``name=newName:tag``) replaces the ``images:`` entry of that name. The file is edited line by
line, so its comments stay.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

VERSION_LABEL = "app.kubernetes.io/version"
# It becomes part of the migration Job's name (migrate-<version>): a DNS label, lower case.
VERSION = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,45}[a-z0-9])?$")
IMAGE = re.compile(r"^(?P<name>[\w./-]+)=(?P<new_name>[\w./:-]+?)(@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[\w.-]+))$")


class ReleaseError(ValueError):
    pass


def release(overlay: Path, version: str, images: list[str]) -> None:
    path = overlay / "kustomization.yaml"
    lines = path.read_text().splitlines()
    if not VERSION.match(version):
        raise ReleaseError(f"version {version!r}: lower-case letters, digits, '.' and '-' only (it names a Job)")
    if any(line.startswith("commonLabels:") for line in lines):
        raise ReleaseError(f"{path}: commonLabels go into selectors; use labels: with includeSelectors: false")
    lines = _set_version(lines, version, path)
    for argument in images:
        lines = _set_image(lines, argument, path)
    path.write_text("\n".join(lines) + "\n")


def _set_version(lines: list[str], version: str, path: Path) -> list[str]:
    at = [i for i, line in enumerate(lines) if line.strip().startswith(f"{VERSION_LABEL}:")]
    if len(at) != 1:
        raise ReleaseError(f"{path}: expected one {VERSION_LABEL} in labels:, found {len(at)}")
    entry = _entry(lines, at[0])
    if not any(lines[i].strip() == "includeSelectors: false" for i in entry):
        raise ReleaseError(f"{path}: the labels: entry of {VERSION_LABEL} must say includeSelectors: false")
    indent = lines[at[0]][: len(lines[at[0]]) - len(lines[at[0]].lstrip())]
    return lines[: at[0]] + [f'{indent}{VERSION_LABEL}: "{version}"'] + lines[at[0] + 1 :]


def _set_image(lines: list[str], argument: str, path: Path) -> list[str]:
    parsed = IMAGE.match(argument)
    if parsed is None:
        raise ReleaseError(f"image {argument!r}: expected name=newName@sha256:<64 hex> or name=newName:tag")
    name = parsed["name"]
    start = next((i for i, line in enumerate(lines) if line.strip() == f"- name: {name}"), None)
    if start is None:
        raise ReleaseError(f"{path}: no images: entry named {name}")
    entry = _entry(lines, start)
    indent = " " * (len(lines[start]) - len(lines[start].lstrip()) + 2)
    kept = [lines[i] for i in entry[1:] if lines[i].strip().split(":")[0] not in ("newName", "newTag", "digest")]
    pin = f"digest: {parsed['digest']}" if parsed["digest"] else f'newTag: "{parsed["tag"]}"'
    replaced = [lines[start], f"{indent}newName: {parsed['new_name']}", f"{indent}{pin}", *kept]
    return lines[: entry[0]] + replaced + lines[entry[-1] + 1 :]


def _entry(lines: list[str], at: int) -> list[int]:
    """The line numbers of the list item that holds line ``at`` (from its ``- `` to its last line)."""
    start = at
    while not lines[start].lstrip().startswith("- "):
        start -= 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while (
        end < len(lines)
        and lines[end].strip()
        and len(lines[end]) - len(lines[end].lstrip()) > indent
        and not lines[end].lstrip().startswith("#")
    ):
        end += 1
    return list(range(start, end))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        release(Path(argv[0]), argv[1], argv[2:])
    except ReleaseError as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
