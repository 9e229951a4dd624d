"""The genotype viewer over a multi-agent (marl-gdas) run: each agent's own cell per epoch."""

from __future__ import annotations

import html
import json
import sqlite3
import time

import pytest

import nasbench
from nasbench.runs import RunStore, load
from nasbench.runs.schema import db_path
from nasbench.spaces import genotype_from_dict, zoo
from tests.engine.test_localisation_search import tiny_marl
from widgets.genotype_viewer import GenotypeViewer

AGENTS = ("agent0", "agent1", "agent2")


@pytest.fixture(scope="module")
def marl_run(tmp_path_factory):
    """A real tiny marl-gdas run: two rounds, three agents that each own a normal cell."""
    run_dir = tmp_path_factory.mktemp("marl-genotypes") / "run"
    nasbench.search(tiny_marl(), run_dir)
    return run_dir


def _agent_cells(run_dir) -> list[dict[str, str]]:
    """Each round's cells by part, as canonical JSON, read from the run's events."""
    events = load(run_dir).events
    rows = events[events["kind"] == "agent_genotypes"]
    return [
        {part: genotype_from_dict(cell).to_json() for part, cell in payload.items()}
        for payload in rows["payload"]
    ]


@pytest.mark.slow
def test_a_marl_run_offers_each_agents_cell_at_each_epoch(marl_run):
    viewer = GenotypeViewer(marl_run)
    viewer.show_run(marl_run)
    source = viewer.source_a
    assert source.part.options == ("shared", *AGENTS)
    assert source.part.layout.display is None and source.part.value == "shared"
    rows = load(marl_run).genotypes
    cells = _agent_cells(marl_run)
    assert len(cells) == len(rows) == 2
    assert source.epoch.value == 1  # the returned (last) round, as for any run
    assert source.genotype_json == rows["genotype"].iloc[1].to_json()
    for index in (0, 1):
        source.epoch.value = index
        source.part.value = "shared"
        assert source.genotype_json == rows["genotype"].iloc[index].to_json()
        assert source.message.value == ""
        for agent in AGENTS:
            source.part.value = agent
            assert source.genotype_json == cells[index][agent], (index, agent)
            # tiny_marl's agents own a normal cell only: the drawing's second cell is
            # said to repeat it, the shared part (1 + 1 cells) has nothing to say.
            assert html.unescape(source.message.value).endswith(
                f"{agent} owns no reduction cell (agent_reduce = 0): the reduction cell "
                "drawn repeats its normal cell.</div>"
            )
            assert "<svg" in viewer.drawing_a.value and viewer.costs_a["params"] > 0
            for op, _ in source.genotype.normal:  # the agent's own ops are drawn
                assert op in viewer.drawing_a.value
    # Agents own a normal cell here: a part is told apart from the shared one.
    assert any(cells[1][agent] != cells[1]["shared"] for agent in AGENTS)
    source.part.value = "agent1"
    assert source.genotype_json == cells[1]["agent1"]
    source.epoch.value = 0  # the part stays; the epoch picks its round
    assert source.part.value == "agent1" and source.genotype_json == cells[0]["agent1"]


@pytest.mark.slow
def test_switching_run_resets_the_part_and_a_darts_run_shows_none(marl_run, fake_run, tmp_path):
    import shutil

    other = tmp_path / "other-marl"  # another run with the same agents
    shutil.copytree(marl_run, other)
    viewer = GenotypeViewer([marl_run, other, fake_run])
    source = viewer.source_a
    viewer.show_run(marl_run)
    source.part.value = "agent2"
    assert source.genotype_json == _agent_cells(marl_run)[1]["agent2"]
    source.run.value = str(other)
    assert source.part.value == "shared" and source.part.options == ("shared", *AGENTS)
    assert source.genotype_json == load(other).genotypes["genotype"].iloc[1].to_json()
    source.part.value = "agent2"
    source.run.value = str(fake_run)
    assert source.part.value == "shared" and source.part.options == ("shared",)
    assert source.part.layout.display == "none"
    assert source.genotype_json == load(fake_run).genotypes["genotype"].iloc[0].to_json()
    source.run.value = str(marl_run)
    assert source.part.value == "shared" and source.part.options == ("shared", *AGENTS)
    assert source.genotype_json == load(marl_run).genotypes["genotype"].iloc[1].to_json()
    source.kind.value = "zoo"  # hidden with the run's other controls
    assert source.part.layout.display == "none" and source.epoch.layout.display == "none"
    source.kind.value = "run"
    assert source.part.layout.display is None


def test_a_darts_run_gets_no_part_and_shows_its_returned_genotype_as_before(fake_run):
    viewer = GenotypeViewer()
    viewer.show_run(fake_run)
    source = viewer.source_a
    assert source.part.options == ("shared",) and source.part.value == "shared"
    assert source.part.layout.display == "none"
    assert [label for label, _ in source.epoch.options] == [
        "epoch 1 (step 2)",
        "epoch 2 (step 2)",
    ]
    assert source.epoch.value == 0  # the early stop's returned epoch, as before
    assert source.genotype.kind == "darts" and source.message.value == ""
    assert "<svg" in viewer.drawing_a.value


def _hand_marl_run(run_dir) -> dict[str, str]:
    """A localisation-like store: three rounds of shared cells; round 1's agent event is
    damaged, round 2 has none (it was logged at another step); the agents' canonical JSON."""
    cells = {
        "shared": zoo["DARTS_V2"],
        "agent0": zoo["DARTS_V1"],
        "agent1": zoo["DARTS_V2"],
        "agent10": zoo["DARTS_V1"],
        "agent2": zoo["DARTS_V2"],
    }
    with RunStore.create(run_dir, {"strategy": "marl-gdas"}, environment={}) as store:
        for epoch in range(3):
            store.log_genotype(epoch, 2 * (epoch + 1), zoo["DARTS_V2"].to_json(),
                               {"part": "shared"})  # fmt: skip
        payload = {part: g.to_dict() for part, g in cells.items()}
        store.log_event("agent_genotypes", payload, step=2, epoch=0)
        damaged = {
            "shared": payload["shared"],
            "agent0": {"kind": "darts", "normal": "damaged"},  # a dict that does not parse
            "agent1": "not a genotype dict",
        }
        store.log_event("agent_genotypes", damaged, step=4, epoch=1)
        store.log_event("agent_genotypes", payload, step=5, epoch=2)  # not round 2's step
    return {part: g.to_json() for part, g in cells.items()}


def test_agents_are_offered_in_number_order_and_damaged_cells_say_so_in_one_line(tmp_path):
    run_dir = tmp_path / "marl"
    cells = _hand_marl_run(run_dir)
    viewer = GenotypeViewer()
    viewer.show_run(run_dir)
    source = viewer.source_a
    assert source.part.options == ("shared", "agent0", "agent1", "agent2", "agent10")
    source.epoch.value = 0
    source.part.value = "agent0"
    assert source.genotype_json == cells["agent0"] and source.message.value == ""
    assert source.genotype_json != zoo["DARTS_V2"].to_json()

    def shown(part: str, index: int) -> str:
        source.part.value = part
        source.epoch.value = index
        assert source.genotype_json == "" and viewer.drawing_a.value == ""
        assert viewer.costs_a == {}
        text = html.unescape(source.message.value)
        assert "\n" not in text and "Traceback" not in text
        return text

    text = shown("agent0", 1)
    assert "agent0's cell at epoch 2 (step 4) cannot be read" in text
    assert "does not parse" in text and "nasbench-message-error" in text
    text = shown("agent1", 1)  # a part that is not a dict
    assert "agent1's cell at epoch 2 (step 4) cannot be read" in text
    text = shown("agent2", 1)  # the event names no cell for it
    assert "names no cell for it" in text and "nasbench-message-error" in text
    text = shown("agent2", 2)
    assert "agent2's cell is not stored for epoch 3 (step 6)" in text
    assert "agent_genotypes" in text and "nasbench-message-info" in text
    source.part.value = "shared"  # the shared cell of a damaged round still shows
    assert source.genotype_json == zoo["DARTS_V2"].to_json() and source.message.value == ""


def test_an_event_payload_that_is_not_a_dict_is_named_not_raised(tmp_path):
    run_dir = tmp_path / "marl"
    cells = _hand_marl_run(run_dir)
    # A store edited by hand: round 1's event holds a list (log_event refuses one).
    with sqlite3.connect(db_path(run_dir)) as db:
        db.execute(
            "UPDATE events SET payload = ? WHERE kind = 'agent_genotypes' AND epoch = 1",
            (json.dumps(["not", "a", "dict"]),),
        )
        db.execute(
            "INSERT INTO events (step, epoch, kind, payload, time) VALUES (?, ?, ?, ?, ?)",
            (6, 2, "agent_genotypes", "{broken json", time.time()),
        )
    viewer = GenotypeViewer()
    viewer.show_run(run_dir)
    source = viewer.source_a
    assert source.part.options == ("shared", "agent0", "agent1", "agent2", "agent10")
    source.part.value = "agent10"
    for index in (1, 2):
        source.epoch.value = index
        text = html.unescape(source.message.value)
        assert source.genotype_json == "" and "\n" not in text
        assert f"agent10's cell at epoch {index + 1} " in text and "cannot be read" in text
    source.epoch.value = 0
    assert source.genotype_json == cells["agent10"] and source.message.value == ""


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, {}),  # marl-gdas's defaults: 5 + 3 shared, 3 + 1 own cells
        (
            {"agent_reduce": 0},
            {"agent0": ("reduction", "agent_reduce"), "agent1": ("reduction", "agent_reduce")},
        ),
        ({"shared_normal": 0}, {"shared": ("normal", "shared_normal")}),
        ({"agent_reduce": "1"}, {}),  # not a count: the default stands
    ],
)
def test_the_cells_a_part_does_not_own_come_from_the_runs_settings(settings, expected):
    from widgets.genotype_viewer import _cells_not_owned

    config = {"strategy": "marl-gdas", "strategy_config": settings}
    assert _cells_not_owned(config, ["shared", "agent0", "agent1"]) == expected
