"""make validate: translate template.yaml the way CloudFormation's SAM transform will, then refuse
a template whose resources reference each other in a circle (CloudFormation rejects it at deploy
time: "Circular dependency between resources") or whose generated resources collide (a function
``CalendarSync`` with an event ``Queue`` generates ``CalendarSyncQueue``: a second resource of that
name). ``sam validate --lint`` and cfn-lint passed both of those (issue 19 found them).

Runs in .venv-sam (samtranslator and cfn-lint's YAML loader live there).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

ARTIFACT_KEYS = ("CodeUri", "DefinitionUri", "ContentUri")  # local paths; `sam package` makes them S3 URIs
PACKAGED_URI = "s3://sam-artifacts/packaged.zip"  # the transform only checks the form of that URI
_SUB_NAME = re.compile(r"\$\{([^}!]+)\}")


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def translated(path: Path) -> dict[str, Any]:
    template, problems = decode(str(path))
    if problems or template is None:
        raise SystemExit(f"{path}: {problems}")
    document = json.loads(json.dumps(template, default=str))
    for resource in document["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ARTIFACT_KEYS:
            if key in properties:
                properties[key] = PACKAGED_URI
    return dict(transform(document, {"AWS::Region": "us-east-1"}, _NoManagedPolicies()))


def _references(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found.update(name.split(".")[0] for name in _SUB_NAME.findall(text))
                if not isinstance(value, str):
                    _references(value[1], found)
            elif key == "DependsOn":
                found.update([value] if isinstance(value, str) else value)
            else:
                _references(value, found)
    elif isinstance(node, list):
        for item in node:
            _references(item, found)
    return found


def cycle(resources: dict[str, Any]) -> list[str] | None:
    """One circle of references among ``resources``, or None."""
    graph = {name: _references(body, set()) & resources.keys() for name, body in resources.items()}
    state: dict[str, int] = {}
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        path = [root]
        state[root] = 1
        while stack:
            name, pending = stack[-1]
            if not pending:
                state[name] = 2
                stack.pop()
                path.pop()
                continue
            nxt = pending.pop()
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph[nxt])))
    return None


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "template.yaml")
    try:
        resources = translated(path)["Resources"]
    except Exception as exc:  # noqa: BLE001 - the transform's own message says what is wrong
        print(f"{path}: the SAM transform fails: {exc}", file=sys.stderr)
        return 1
    found = cycle(resources)
    if found:
        print(f"{path}: circular dependency: {' -> '.join(found)}", file=sys.stderr)
        return 1
    print(f"{path}: SAM transform ok, {len(resources)} resources, no circular dependency")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
