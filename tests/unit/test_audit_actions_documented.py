"""Every audit action the layer writes is in docs/integrations.md's action table, and the table
lists nothing the layer never writes: operators filter the trail (AuditQuery ``action``) and
subscribe to alerts by these names."""

from __future__ import annotations

import ast
import re

from hub.audit import SENSITIVE_ACTIONS
from tests.helpers import ROOT

LAYER = ROOT / "layers" / "hub" / "hub"


def _written_actions() -> set[str]:
    found: set[str] = set()
    for path in LAYER.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "audit") or len(node.args) < 2:
                continue
            action = node.args[1]
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                found.add(action.value)
            elif isinstance(action, ast.Name) and action.id in constants:
                found.add(constants[action.id])
            else:  # an action computed at run time could not be checked against the docs
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno}: audit action is not a literal")
    return found


def _documented_actions() -> dict[str, bool]:
    text = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    section = re.split(r"^## Audit$", text, maxsplit=1, flags=re.M)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_.]+)` \|.*\| ([^|]*) \|$", section, flags=re.M)
    return {name: sensitive.strip().startswith("**yes**") for name, sensitive in rows}


def test_every_written_action_is_documented_and_every_documented_one_is_written() -> None:
    written, documented = _written_actions(), _documented_actions()
    assert written, "no audit.record call found: the scan is broken"
    assert written - set(documented) == set(), "written but not in docs/integrations.md#audit"
    assert set(documented) - written == set(), "documented but never written"


def test_the_documented_sensitive_actions_are_the_ones_that_alert() -> None:
    documented = _documented_actions()
    assert {name for name, sensitive in documented.items() if sensitive} == set(SENSITIVE_ACTIONS)
