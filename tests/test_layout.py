"""The layout's rules, checked on the source: imports flow one way and nothing is circular.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a lazy
import still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("model", "records", "training", "service", "scoring", "cli")
# What each package may import besides itself (README, "Architecture").
ALLOWED = {
    "model": set(),
    "records": set(),
    "training": {"model", "records"},
    "service": {"model"},
    "scoring": {"model", "records"},
    "cli": {"model", "records", "training", "scoring"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (``from a.b import c`` is ``a.b``,
    or ``a.b.c`` when that is a module)."""
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in files else node.module for t in targets]
            edges.update(t for t in targets if t.split(".")[0] in PACKAGES and t in files)
        graph[name] = edges - {name}
    return graph


def test_imports_flow_one_way():
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _imports().items()
        for target in targets
        if target.split(".")[0] != name.split(".")[0]
        and target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    )
    assert wrong == []


def test_no_import_cycles():
    graph = _imports()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, set())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_the_bento_ships_model_and_service_only():
    text = (ROOT / "bentofile.yaml").read_text(encoding="utf-8")
    include = text.split("include:")[1].split("exclude:")[0]
    assert [line.strip() for line in include.strip().splitlines() if line.strip()[:1] == "-"] == [
        '- "model/**/*.py"',
        '- "service/**/*.py"',
        '- "service/static/*.html"',
    ]
    # The service itself needs nothing outside model/ (checked above) and service/.
    assert ALLOWED["service"] == {"model"}


def test_model_touches_bentoml_only_to_look_up_a_tag():
    users = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "model").rglob("*.py")
        if any(
            isinstance(node, ast.Import | ast.ImportFrom)
            and any(
                (getattr(node, "module", None) or alias.name).split(".")[0] == "bentoml"
                for alias in node.names
            )
            for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        )
    )
    assert users == ["model/store.py"]
