"""The import contract: imports run one way (docs: STYLE "The layout shows the
architecture"):

    ledger <- the kernel (portal/procedure) <- the areas' services
           <- the web layer (portal/web) and the areas' controllers <- app factory and CLI

Every module of portal/, mediation/, arbitration/ and ledger/ is read with `ast`, its
imports at module level and inside functions alike (an import inside a function is
still a dependency, only a later one). Imports under `if TYPE_CHECKING:` never run, so
they make no cycle; they still say which way a module leans, so they count for the
direction rules.

`KNOWN` lists the violations left today, each with who removes it. It may only shrink:
a violation not in it fails, and so does an entry that is no longer a violation.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("portal", "mediation", "arbitration", "ledger")

KERNEL = ("portal.procedure",)
"""The rules of the procedure: tables, policy, roles, registry, hooks."""
BOTTOM = (
    "portal.settings",
    "portal.database",
    "portal.i18n",
    "portal.errors",
)
"""Plain modules anything may use."""
KERNEL_MAY_USE = ("ledger", "piccolo", *KERNEL, *BOTTOM)
TOP = ("portal.app", "portal.cli")
"""Nothing imports these but themselves and `portal.__main__`."""
WEB_AND_TOP = ("litestar", "portal.web", *TOP)
"""What a service may not import: it is called by the web, never the other way."""

KNOWN: frozenset[tuple[str, str, str]] = frozenset(
    {
        # (rule, importer, imported), each with what removes it. The list only shrinks.
        # The streamed upload refuses a bad CSRF token as the CSRF middleware would
        # (the form is read by the service, before any handler sees it):
        ("service imports the web", "portal.cases.uploads", "litestar.exceptions"),
        # lead, after merging: the PDF renderer builds its own Jinja environment
        # (the template directory and the filters, without Litestar's TemplateConfig):
        ("service imports the web", "portal.pdf.render", "portal.web.pages"),
    }
)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    in_function: bool
    type_checking: bool
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Piccolo's migrations: generated, read only by Piccolo
            found[module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"

    def walk(node: ast.AST, in_function: bool, type_checking: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(name, alias.name, in_function, type_checking, child.lineno)
            elif isinstance(child, ast.ImportFrom):
                source = _resolve(name, is_package, child)
                for alias in child.names:
                    # `from portal.cases import submissions` imports a module.
                    target = f"{source}.{alias.name}"
                    imported = target if target in modules else source
                    yield Import(name, imported, in_function, type_checking, child.lineno)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for part in child.body:
                    yield from walk_one(part, in_function, True)
                for part in child.orelse:
                    yield from walk_one(part, in_function, type_checking)
            else:
                nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                yield from walk(child, in_function or nested, type_checking)

    def walk_one(node: ast.AST, in_function: bool, type_checking: bool) -> Iterator[Import]:
        holder = ast.Module(body=[node], type_ignores=[])  # type: ignore[list-item]
        yield from walk(holder, in_function, type_checking)

    yield from walk(tree, False, False)


def every_import() -> list[Import]:
    modules = our_modules()
    return [found for name, path in modules.items() for found in imports_of(name, path, modules)]


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def is_service(module: str) -> bool:
    """A module of an area that is not a controller: mediation/, arbitration/, and
    `portal/<area>/` apart from the web layer and the kernel."""
    parts = module.split(".")
    if parts[-1].endswith("controllers") or "controllers" in parts[-1]:
        return False
    if parts[0] in ("mediation", "arbitration"):
        return True
    return (
        parts[0] == "portal"
        and len(parts) >= 3
        and not within(module, ("portal.web", "portal.procedure", "portal.translations"))
    )


def is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def direction_violations(found: list[Import]) -> set[tuple[str, str, str]]:
    """Rules (a) to (d): who may import what."""
    bad: set[tuple[str, str, str]] = set()
    for i in found:
        if within(i.importer, ("ledger",)) and within(i.imported, PACKAGES[:3]):
            bad.add(("ledger imports the product", i.importer, i.imported))
        if within(i.importer, KERNEL) and not (
            is_stdlib(i.imported) or within(i.imported, KERNEL_MAY_USE)
        ):
            bad.add(("kernel imports above it", i.importer, i.imported))
        if is_service(i.importer) and within(i.imported, WEB_AND_TOP):
            bad.add(("service imports the web", i.importer, i.imported))
        if within(i.imported, TOP) and not (
            within(i.importer, TOP) or i.importer == "portal.__main__"
        ):
            bad.add(("imports the app or the CLI", i.importer, i.imported))
    return bad


def cycles(found: list[Import]) -> set[tuple[str, str, str]]:
    """Rule (e): every import between two modules of one strongly connected component
    (Tarjan), i.e. every edge that closes a cycle, TYPE_CHECKING imports left out."""
    modules = set(our_modules())
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for i in found:
        if not i.type_checking and i.imported in modules and i.imported != i.importer:
            graph[i.importer].add(i.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    component: dict[str, int] = {}

    def connect(start: str) -> None:  # iterative, so deep chains do not recurse
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    component[member] = index[node]
                    if member == node:
                        break

    for module in sorted(modules):
        if module not in index:
            connect(module)
    return {
        ("import cycle", a, b)
        for a, targets in graph.items()
        for b in targets
        if component[a] == component[b]
    }


def test_imports_run_one_way() -> None:
    found = every_import()
    violations = direction_violations(found) | cycles(found)
    new = sorted(violations - KNOWN)
    gone = sorted(KNOWN - violations)
    assert not new, "Imports against the layers (fix them; see STYLE):\n" + "\n".join(
        f"  {rule}: {a} -> {b}" for rule, a, b in new
    )
    assert not gone, "No longer violations: take them out of KNOWN:\n" + "\n".join(
        f"  {rule}: {a} -> {b}" for rule, a, b in gone
    )


def test_the_contract_reads_what_it_means() -> None:
    """The reader itself: a function-level import counts, a TYPE_CHECKING one makes no
    cycle but leans a way, and a relative import resolves."""
    modules = our_modules()
    sample = ROOT / "portal" / "procedure" / "hooks.py"
    assert module_name(sample) == "portal.procedure.hooks"
    assert "portal.procedure" in modules and "ledger" in modules
    found = [
        Import("portal.cases.x", "portal.web.pages", True, False, 1),
        Import("ledger.y", "portal.cases.x", False, True, 1),
        Import("portal.procedure.z", "litestar", False, False, 1),
        Import("portal.dashboard.w", "portal.cli", False, False, 1),
    ]
    rules = {rule for rule, _a, _b in direction_violations(found)}
    assert rules == {
        "service imports the web",
        "ledger imports the product",
        "kernel imports above it",
        "imports the app or the CLI",
    }
    assert is_service("mediation.offers") and not is_service("portal.cases.controllers")
    assert not is_service("portal.cases.mediation_controllers")
    assert not is_service("portal.web.pages") and not is_service("portal.procedure.policy")
