"""How the Python packages depend on each other, stated as checks on the import graph.

- No package has an import cycle: not territory_shared, not any service. Imports inside functions and under
  ``TYPE_CHECKING`` count, so a cycle cannot hide behind them.
- In each service the layers point inward: ``api`` (and ``workers``, ``projections``) -> ``use_cases`` -> ``domain``.
  The domain reaches no web framework, no SQLAlchemy (sessions or otherwise) and no other layer of its service; use
  cases never reach the service's API; the domain never reaches the use cases nor the API.
- Adapters implement the use cases' ports: the database layer and the HTTP clients reach neither the API nor the
  use cases, and use cases take ports, never a concrete client.
- In territory_shared, only ``api`` knows the web framework's side of things: nothing outside ``api`` imports it,
  and the errors domain code raises (``territory_shared.errors``) import no framework at all.

"Reach" means any chain of imports, not only a direct one.
"""

from __future__ import annotations

from collections.abc import Iterable

import grimp
import pytest

SHARED = "territory_shared"
SERVICES = ("geo_service", "assignment_service", "metrics_service")
FRAMEWORKS = ("fastapi", "starlette")
DATABASE = ("sqlalchemy", "geoalchemy2")
# Layers that call use cases: none of them may be reached from below.
ENTRY_LAYERS = ("api", "workers", "projections")
# Layers that implement the use cases' ports.
ADAPTERS = ("db", "clients")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # cache_dir=None: nothing is written next to the sources.
    return grimp.build_graph(SHARED, *SERVICES, include_external_packages=True, cache_dir=None)


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The groups of modules of ``package`` that import each other in a loop (strongly connected components)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        # Tarjan's algorithm, iterative: a deep import chain must not hit the recursion limit.
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, next_edge = work.pop()
            if next_edge == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if next_edge < len(edges[node]):
                work.append((node, next_edge + 1))
                target = edges[node][next_edge]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    cycles.append(sorted(component))
    return cycles


def describe_cycle(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """The group's modules, and one loop through it as the chain of imports that closes it."""
    first = cycle[0]
    loop = first
    for imported in sorted(graph.find_modules_directly_imported_by(first) & set(cycle)):
        back = graph.find_shortest_chain(importer=imported, imported=first) or (first,)
        loop = " -> ".join((first, *back))
        break
    return f"{', '.join(cycle)} (for one: {loop})"


def chains_from(graph: grimp.ImportGraph, importer: str, forbidden: Iterable[str]) -> list[str]:
    """Every shortest import chain from ``importer`` (a package, its modules included) to a forbidden one."""
    found = []
    for imported in forbidden:
        if importer not in graph.modules or imported not in graph.modules:
            continue  # a package no one imports is reached by no chain
        for chain in graph.find_shortest_chains(importer=importer, imported=imported, as_packages=True):
            found.append(" -> ".join(chain))
    return sorted(found)


@pytest.mark.parametrize("package", [SHARED, *SERVICES])
def test_a_package_has_no_import_cycle(graph: grimp.ImportGraph, package: str) -> None:
    cycles = [describe_cycle(graph, cycle) for cycle in import_cycles(graph, package)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_check_finds_a_loop_closed_by_an_import_inside_a_function() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b", line_number=1, line_contents="import pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c", line_number=1, line_contents="import pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a", line_number=9, line_contents="    import pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.d", line_number=2, line_contents="import pkg.d")

    cycles = import_cycles(graph, "pkg")

    assert cycles == [["pkg.a", "pkg.b", "pkg.c"]]
    assert describe_cycle(graph, cycles[0]) == "pkg.a, pkg.b, pkg.c (for one: pkg.a -> pkg.b -> pkg.c -> pkg.a)"


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_reaches_no_framework_database_or_outer_layer(graph: grimp.ImportGraph, service: str) -> None:
    outer = [f"{service}.{layer}" for layer in ("use_cases", "db", *ENTRY_LAYERS, "clients")]
    chains = chains_from(graph, f"{service}.domain", [*FRAMEWORKS, *DATABASE, f"{SHARED}.api", *outer])
    assert not chains, "the domain imports outward:\n" + "\n".join(chains)


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_never_reach_the_api_or_the_workers(graph: grimp.ImportGraph, service: str) -> None:
    chains = chains_from(graph, f"{service}.use_cases", [f"{service}.{layer}" for layer in ENTRY_LAYERS])
    assert not chains, "use cases import a layer that calls them:\n" + "\n".join(chains)


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_import_no_web_framework_themselves(graph: grimp.ImportGraph, service: str) -> None:
    use_cases = graph.find_descendants(f"{service}.use_cases") | {f"{service}.use_cases"}
    found = sorted(
        f"{module} -> {imported}"
        for module in use_cases
        for imported in graph.find_modules_directly_imported_by(module)
        if imported in FRAMEWORKS or imported == f"{SHARED}.api" or imported.startswith(f"{SHARED}.api.")
    )
    assert not found, "use cases import the web layer (errors come from territory_shared.errors):\n" + "\n".join(found)


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_reach_no_web_layer_through_any_chain(graph: grimp.ImportGraph, service: str) -> None:
    chains = chains_from(graph, f"{service}.use_cases", [*FRAMEWORKS, f"{SHARED}.api"])
    assert not chains, "use cases reach the web layer:\n" + "\n".join(chains)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapters_reach_neither_api_nor_use_cases(graph: grimp.ImportGraph, service: str, adapter: str) -> None:
    above = [f"{service}.{layer}" for layer in ("use_cases", *ENTRY_LAYERS)]
    chains = chains_from(graph, f"{service}.{adapter}", above)
    assert not chains, f"the {adapter} layer imports a layer above it:\n" + "\n".join(chains)


@pytest.mark.parametrize("service", SERVICES)
def test_use_cases_take_ports_not_concrete_clients(graph: grimp.ImportGraph, service: str) -> None:
    chains = chains_from(graph, f"{service}.use_cases", [f"{service}.clients"])
    assert not chains, "use cases import a concrete client (take a port from use_cases.ports):\n" + "\n".join(chains)


@pytest.mark.parametrize("service", SERVICES)
def test_the_layers_point_inward(graph: grimp.ImportGraph, service: str) -> None:
    """api -> use_cases -> domain, as grimp's layer check states it: no chain from a lower layer to a higher one."""
    layers = tuple(
        f"{service}.{layer}" for layer in ("api", "use_cases", "domain") if f"{service}.{layer}" in graph.modules
    )
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers, containers=set())
    chains = sorted(f"{d.importer} -> {d.imported}" for d in illegal)
    assert not chains, "a layer imports one above it:\n" + "\n".join(chains)


def test_only_the_shared_api_package_reaches_the_shared_api(graph: grimp.ImportGraph) -> None:
    outside = sorted(
        m for m in graph.find_children(SHARED) if m != f"{SHARED}.api" and not m.startswith(f"{SHARED}.api.")
    )
    chains = [chain for module in outside for chain in chains_from(graph, module, [f"{SHARED}.api"])]
    assert not chains, "shared modules outside api import it:\n" + "\n".join(chains)


def test_the_domain_errors_import_no_framework(graph: grimp.ImportGraph) -> None:
    chains = chains_from(graph, f"{SHARED}.errors", [*FRAMEWORKS, *DATABASE])
    assert not chains, "\n".join(chains)
