"""Dependencies point one way, with no cycle: config -> portal/metrics -> actions ->
features -> outbox -> retention. The contracts are in pyproject.toml
([tool.importlinter]); this runs them, and shows they catch an upward import and a
cycle (so a contract that checked nothing would fail here)."""

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def lint(monkeypatch, *extra_imports: tuple[str, str]) -> int:
    monkeypatch.chdir(ROOT)
    build_graph = grimp.build_graph

    def graph_with_extra_imports(*args, **kwargs):
        graph = build_graph(*args, **kwargs)
        for importer, imported in extra_imports:
            graph.add_import(importer=importer, imported=imported)
        return graph

    monkeypatch.setattr(grimp, "build_graph", graph_with_extra_imports)
    return lint_imports(no_cache=True, no_logo=True)


def test_dependencies_point_one_way_with_no_cycle(monkeypatch):
    assert lint(monkeypatch) == 0


@pytest.mark.parametrize(
    "importer,imported",
    [
        ("retention.links", "portal.views"),  # the core reaching up to the web layer
        ("outbox.compose", "loyalty.services"),  # the outbox reaching up to a feature
        ("campaigns.seasonal", "reminders.winback"),  # one feature importing another
        ("actions.jobs", "metrics.selectors"),  # below the top layer
    ],
)
def test_an_upward_or_sideways_import_breaks_the_contract(monkeypatch, importer, imported):
    assert lint(monkeypatch, (importer, imported)) == 1


def test_a_cycle_inside_a_package_breaks_the_contract(monkeypatch):
    # outbox.delivery imports outbox.compose's neighbours; the reverse closes a cycle.
    assert lint(monkeypatch, ("outbox.models", "outbox.delivery")) == 1
