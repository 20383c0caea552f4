"""The layout's rules, checked on the import graph: each package imports only what it may.

Every import counts, at a module's top or inside a function (a late import is still a
dependency); only imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("repository", "harvest") for p in (ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    """``repository/catalogue/writes.py`` -> ``repository.catalogue.writes``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (relative imports resolved), except under ``if TYPE_CHECKING:``."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                # ``from repository import catalogue`` imports the module repository.catalogue
                found.update(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found


GRAPH = {module_name(p): imports_of(p) for p in SOURCES}


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def offending(modules: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The modules under ``modules`` that import something under ``forbidden`` (and not under ``allowed``)."""
    bad = {}
    for name, imported in GRAPH.items():
        if not _under(name, modules):
            continue
        wrong = sorted(i for i in imported if _under(i, *forbidden) and not _under(i, *allowed))
        if wrong:
            bad[name] = wrong
    return bad


def test_the_graph_is_read():
    # the walker finds late and ``from package import module`` imports, or every rule below is empty
    assert "repository.catalogue" in GRAPH["repository.actions.records"]
    assert "repository.cli" in GRAPH["repository.command"]  # a late import, inside main()
    assert "repository.metadata.marc" in GRAPH["repository.metadata.marcxml"]
    assert "repository.services" not in GRAPH["repository.actions.records"]  # under TYPE_CHECKING only


REPOSITORY_PACKAGES = (
    "repository.catalogue", "repository.actions", "repository.oai", "repository.storage", "repository.fulltext",
    "repository.web", "repository.cli", "repository.services", "repository.db", "repository.config",
    "repository.migrations", "repository.command", "repository.wsgi", "repository.jobs",
)  # fmt: skip


@pytest.mark.parametrize(
    ("package", "forbidden", "allowed"),
    [
        # pure codecs: bytes to records and back, no database, no web, no catalogue
        ("repository.metadata", ("sqlalchemy", "flask", "harvest", *REPOSITORY_PACKAGES), ()),
        # the OAI-PMH core is sans-IO: it takes a store and returns bytes
        ("repository.oai", ("sqlalchemy", "flask", "harvest", *REPOSITORY_PACKAGES), ("repository.oai",)),
        # the catalogue knows nothing of who calls it
        ("repository.catalogue", ("flask", "harvest", "repository.actions", "repository.web", "repository.cli"), ()),
        ("repository.actions", ("flask", "repository.web", "repository.cli", "repository.jobs"), ()),
        # background work is an entry point like the command line: it calls actions, not the others
        ("repository.jobs", ("flask", "repository.web", "repository.cli"), ()),
        ("repository.storage", ("sqlalchemy", "flask", "repository.catalogue", "repository.actions"), ()),
        ("repository.fulltext", ("sqlalchemy", "flask", "repository.catalogue", "repository.actions"), ()),
        # the index reads the catalogue; nothing but actions and the entry points calls it
        ("repository.search", ("flask", "repository.actions", "repository.web", "repository.cli"), ()),
        # the OAI-PMH client anyone could lift out
        ("harvest.client", ("repository",), ()),
        ("harvest.pages", ("repository",), ()),
        ("harvest.errors", ("repository",), ()),
        ("harvest.addresses", ("repository", "requests", "urllib3"), ()),
        # a harvest run reaches the catalogue only through actions (which hand it a Target)
        ("harvest.runner", ("repository",), ()),
        ("harvest.sink", ("sqlalchemy", "repository.catalogue", "repository.actions"), ()),
    ],
)
def test_package_imports_only_what_it_may(package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...]):
    assert package in GRAPH or any(n.startswith(package + ".") for n in GRAPH), f"no package {package}"
    assert offending(package, forbidden, allowed) == {}


def test_nothing_imports_the_entry_points():
    entry_points = ("repository.cli", "repository.web")
    # the app factory registers the web, the console script and wsgi start their entry point
    may = ("repository", "repository.command", "repository.wsgi", *entry_points)
    bad = {
        name: sorted(i for i in imported if _under(i, *entry_points))
        for name, imported in GRAPH.items()
        if not _under(name, *entry_points) and name not in may
    }
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize(
    ("library", "home"),
    [
        ("pymarc", "repository.metadata.marc"),
        ("boto3", "repository.storage.s3"),
        ("botocore", "repository.storage.s3"),
        ("pypdf", "repository.fulltext.pdf"),
        ("requests", "harvest.client"),
        ("charset_normalizer", "repository.metadata.encoding"),
        ("opensearchpy", "repository.search.elastic"),
        ("snowballstemmer", "repository.search.russian"),
        ("pymorphy3", "repository.search.russian"),
        ("rapidfuzz", "repository.search.backend"),
        ("segno", "repository.web.qrcodes"),
        ("babel.messages", "repository.web.i18n"),
        ("fpdf", "repository.web.albums"),
        ("prometheus_client", "repository.web.metrics"),
        ("gunicorn", "repository.web.serving"),
        ("numpy", "repository.search.embedded"),
        ("celery", "repository.jobs.celery_runner"),
        ("zipfile", "repository.actions.unpacking"),
        ("bz2", "repository.actions.unpacking"),
        ("lzma", "repository.actions.unpacking"),
    ],
)
def test_each_library_of_a_format_or_service_lives_in_one_module(library: str, home: str):
    users = sorted(name for name, imported in GRAPH.items() if any(_under(i, library) for i in imported))
    assert users == [home]
