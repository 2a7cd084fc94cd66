"""The layers of docs/development.md §1, enforced on the import graph of whistle/.

Every module of whistle/ is in one layer: foundation (imports only foundation), a domain area
(imports foundation, its own modules and the public modules of the areas below it, never a
delivery module, and takes no Pyramid request), or delivery (anything, other areas through
their public modules). No two packages import each other, however indirectly, and an import
inside a function has a comment on the line before saying why. Each failure names the
importing module, the imported module and the rule, so the fix is where the message points.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

WHISTLE = Path(__file__).resolve().parents[2] / "whistle"

# The table of docs/development.md §1: keep the two the same.
FOUNDATION = ("crypto", "db", "clock", "settings", "audit", "errors", "errors.problems", "i18n", "words", "numbers",
              "throttles", "jsonapi", "deadlines", "hooks", "events", "jobs", "shredding")
DOMAIN_AREAS = ("sessions", "accounts", "intake_channels", "key_directory", "cases", "attachments", "notifications",
                "escalations", "routing", "protection", "records", "board", "intake", "reporters", "admin",
                "statistics")  # lowest first
DELIVERY = ("__init__", "config", "routes", "request", "server", "devmail", "models", "pages", "timeline",
            "security", "errors.views", "errors.tweens", "health", "openapi", "cli", "scheduler", "workspace", "client",
            "desk")
# Delivery that runs on a reporter's machine, not the server's: it may import only these of whistle
# (and the standard library), so it trusts nothing but the format and the organisation's key.
CLIENT = "client"
CLIENT_MAY_IMPORT = ("crypto",)
# The desk runs on a guardian's machine: the reporter's client (its pin), the format, and waitress.
DESK = "desk"
DESK_MAY_IMPORT = ("client", "crypto")
DESK_THIRD_PARTY = ("waitress",)
# In an area, these modules speak HTTP or wire the area in: delivery, though they live in a domain area
# (limits: what a request may spend, told by its client's address).
DELIVERY_IN_AN_AREA = ("__init__", "views", "identity", "sections", "context", "limits")
PUBLIC_IN_EVERY_AREA = ("models", "services", "events")
PUBLIC_WITH_A_REASON = {
    "cases.lifecycle": "the statuses and the moves between them",
    "cases.info": "CaseInfo for plugins, built in one place",
    "cases.actions": "the guardian's actions, called by the workspace's views",
    "cases.inbox": "the inbox query, called by the workspace's views",
    "cases.learning": "the learning search and report's queries, called by the workspace's views",
    "cases.context": "CaseContext, the traversal context (and its ACL) of every route about one case",
    "attachments.blobs": "the blob stores and make_blob_store, which every command builds its store with",
    "attachments.uploads": "the streaming form parser, for every route that takes a file",
    "attachments.views": "downloads and the API's raw-body upload, shared by reporters and guardians",
    "notifications.preferences": "the notice events and a guardian's choices",
    "intake.forms": "the mailbox reuses the identity checks of the report form",
    "protection.forms": "the protection form on the case page",
}


@dataclass(frozen=True)
class Layer:
    name: str  # "foundation", "domain" or "delivery"
    area: str  # the package under whistle/ ("cases"), or the module's name for a top-level module
    rank: int = -1  # a domain area's place, lowest first


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool
    explained: bool  # a comment on the line before


def module_name(path: Path) -> str:
    parts = path.relative_to(WHISTLE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(WHISTLE.rglob("*.py")) if "migrations" not in path.parts}


def under(name: str, prefixes: tuple[str, ...]) -> str | None:
    """The longest prefix `name` is or is inside of."""
    matches = [prefix for prefix in prefixes if name == prefix or name.startswith(prefix + ".")]
    return max(matches, key=len) if matches else None


def layer_of(name: str) -> Layer | None:
    area = name.split(".")[0]
    if area in DOMAIN_AREAS:
        leaf = name.split(".")[-1] if "." in name else "__init__"
        delivery = leaf in DELIVERY_IN_AN_AREA or leaf.endswith("_views") or name == "attachments.uploads"
        return Layer("delivery" if delivery else "domain", area, DOMAIN_AREAS.index(area))
    delivery, foundation = under(name, DELIVERY), under(name, FOUNDATION)
    if delivery and (not foundation or len(delivery) > len(foundation)):
        return Layer("delivery", area)
    if foundation:
        return Layer("foundation", area)
    return None


def is_public(name: str) -> bool:
    if "." not in name:
        return name.split(".")[0] not in DOMAIN_AREAS  # a domain area's package is its includeme
    return name.split(".", 1)[1] in PUBLIC_IN_EVERY_AREA or name in PUBLIC_WITH_A_REASON


def imports(name: str, path: Path, known: set[str]) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    in_function = {id(node) for function in ast.walk(tree)
                   if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - node.level + 1]
                module = ".".join(["whistle", *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from whistle.cases import services` imports the module whistle.cases.services.
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}".removeprefix("whistle.") in known
                       else module for alias in node.names]
        else:
            continue
        before = comment_before(lines, node.lineno)
        for target in dict.fromkeys(targets):
            if target.startswith("whistle.") and target != "whistle":
                found.append(Import(name, target.removeprefix("whistle."), node.lineno, id(node) in in_function,
                                    before.startswith("#")))
    return found


def comment_before(lines: list[str], lineno: int) -> str:
    """The line before an import, or before the block of imports it is in: where its reason goes."""
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith(("from ", "import ")):
        index -= 1
    return lines[index].strip() if index >= 0 else ""


def all_imports() -> list[Import]:
    found = modules()
    return [edge for name, path in found.items() for edge in imports(name, path, set(found))]


def problems_of(edge: Import) -> list[str]:
    importer, imported = layer_of(edge.importer), layer_of(edge.imported)
    where = f"whistle.{edge.importer} (line {edge.line}) imports whistle.{edge.imported}"
    if importer is None or imported is None:
        return []  # reported by test_every_module_is_in_a_layer
    found = []
    if edge.in_function and not edge.explained:
        found.append(f"{where} inside a function: import at the top, or say on the line before why it must wait")
    if importer.area == imported.area:
        return found
    if importer.name == "foundation" and imported.name != "foundation":
        found.append(f"{where}: foundation imports only foundation, and whistle.{edge.imported} is {imported.name}")
    if importer.name == "domain":
        if imported.name == "delivery":
            found.append(f"{where}: a domain area never imports delivery (views, includeme, identity, sections)")
        elif imported.name == "domain" and imported.rank > importer.rank:
            found.append(f"{where}: {importer.area} is below {imported.area}, so it may not import it — publish "
                         f"an event (whistle/events.py) that {imported.area} subscribes to, or register in includeme")
    if imported.name == "domain" and not is_public(edge.imported):
        found.append(f"{where}: that is not a public module of {imported.area} (models, services, events, or "
                     f"one listed in PUBLIC_WITH_A_REASON with the reason)")
    return found


def test_every_module_is_in_a_layer():
    unplaced = [f"whistle.{name}" for name in modules() if layer_of(name) is None]
    assert unplaced == [], f"put these in a layer (here and in docs/development.md §1): {unplaced}"


def test_every_arrow_points_down_through_public_modules():
    found = [problem for edge in all_imports() for problem in problems_of(edge)]
    assert found == [], "\n".join(found)


def test_no_two_packages_import_each_other():
    graph: dict[str, set[str]] = {}
    for edge in all_imports():
        source, target = edge.importer.split(".")[0], edge.imported.split(".")[0]
        if source != target and source != "__init__":
            graph.setdefault(source, set()).add(target)
    cycles = [cycle for cycle in strongly_connected(graph) if len(cycle) > 1]
    assert cycles == [], "these packages import each other, however indirectly: " + "; ".join(
        " ↔ ".join(sorted(cycle)) for cycle in cycles)


def test_no_domain_module_takes_a_request():
    found = []
    for name, path in modules().items():
        layer = layer_of(name)
        if layer is None or layer.name != "domain":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                if any(argument.arg == "request" for argument in arguments):
                    found.append(f"whistle.{name}.{node.name} (line {node.lineno}) takes a request: a domain "
                                 f"module gets what it needs (dbsession, settings, clock, call_hook) from its view")
    assert found == [], "\n".join(found)


def test_the_rules_catch_a_wrong_way_import():
    wrong = Import("cases.services", "escalations.services", 1, in_function=False, explained=False)
    assert any("cases is below escalations" in problem for problem in problems_of(wrong))
    private = Import("reporters.services", "intake.receipts", 1, in_function=False, explained=False)
    assert any("not a public module of intake" in problem for problem in problems_of(private))
    upward = Import("words", "cases.models", 1, in_function=False, explained=False)
    assert any("foundation imports only foundation" in problem for problem in problems_of(upward))
    hidden = Import("cases.services", "cases.models", 1, in_function=True, explained=False)
    assert any("inside a function" in problem for problem in problems_of(hidden))
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]


def test_the_reporter_client_imports_only_crypto_and_the_standard_library():
    found = []
    for name, path in modules().items():
        if under(name, (CLIENT,)) is None:
            continue
        for edge in imports(name, path, set(modules())):
            if under(edge.imported, (CLIENT, *CLIENT_MAY_IMPORT)) is None:
                found.append(f"whistle.{name} (line {edge.line}) imports whistle.{edge.imported}")
        for node in ast.walk(ast.parse(path.read_text())):
            top = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [f"whistle.{name} (line {node.lineno}) imports {module}, neither whistle nor the standard library"
                      for module in top if module.split(".")[0] not in (*sys.stdlib_module_names, "whistle")]
    assert found == [], "whistle.client runs on a reporter's machine: whistle.crypto and the standard " \
                        "library only\n" + "\n".join(found)


def test_the_desk_imports_only_the_client_crypto_waitress_and_the_standard_library():
    found = []
    for name, path in modules().items():
        if under(name, (DESK,)) is None:
            continue
        for edge in imports(name, path, set(modules())):
            if under(edge.imported, (DESK, *DESK_MAY_IMPORT)) is None:
                found.append(f"whistle.{name} (line {edge.line}) imports whistle.{edge.imported}")
        for node in ast.walk(ast.parse(path.read_text())):
            top = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [f"whistle.{name} (line {node.lineno}) imports {module}"
                      for module in top if module.split(".")[0] not in (*sys.stdlib_module_names, "whistle",
                                                                       *DESK_THIRD_PARTY)]
    assert found == [], "whistle.desk runs on a guardian's machine and trusts no server: whistle.client, " \
                        "whistle.crypto, waitress and the standard library only\n" + "\n".join(found)


def test_the_table_matches_the_guide():
    guide = (WHISTLE.parent / "docs" / "development.md").read_text()
    assert " < ".join(f"`{area}`" for area in DOMAIN_AREAS) in guide
    for name in PUBLIC_WITH_A_REASON:
        assert f"`{name}`" in guide, f"docs/development.md §1 does not list {name} as public"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for neighbour in sorted(graph.get(node, ())):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            groups.append(sorted(group))

    for node in sorted(set(graph) | {target for targets in graph.values() for target in targets}):
        if node not in index:
            visit(node)
    return groups
