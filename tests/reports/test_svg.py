"""The pictures: sequence diagrams, the state graph and the level charts, read back as XML."""
import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from ksecheck.checker.explicit.search import explore
from ksecheck.registry import PINNED, catalogue
from ksecheck.checker.explicit.graph import reachable
from ksecheck.reports import graph, svg

NS = {"s": "http://www.w3.org/2000/svg"}
CAT = catalogue()
PINNED_RUNS = json.loads(PINNED.read_text())["runs"]


def counterexample(config, variant, prop):
    fam, cfg = CAT.resolve(None, config)
    model = fam.instantiate(cfg, [variant])
    result = explore(model)
    return model, result, result.get(prop)


@pytest.fixture(scope="module")
def keep_mailbox():
    return counterexample("tiny", "keep_td_mailbox", "mailbox_in_one_place")


@pytest.fixture(scope="module")
def no_wake():
    return counterexample("tiny", "no_wake_parked", "deadlock_free")


def parse(text):
    return ET.fromstring(text)


def test_a_sequence_diagram_has_one_lane_per_entity_and_one_box_row_per_step(keep_mailbox):
    model, _, p = keep_mailbox
    root = parse(svg.sequence_diagram(p.trace, "t", doc=p.doc, source=p.source))
    lanes = [g.get("data-lane") for g in root.iterfind(".//s:g[@class='lane']", NS)]
    assert lanes == ["t0", "t1", "t2", "u0", "m0", "global"]  # T=3 threads, U=1, M=1
    steps = root.findall(".//s:g[@class='step']", NS)
    assert [s.get("data-action") for s in steps] == [s.label for s in p.trace.steps]
    assert len(steps) == len(p.trace) == PINNED_RUNS["tiny+keep_td_mailbox"]["lengths"][
        "mailbox_in_one_place"]
    # the export (tick) changes the thread, where the mailbox is, and completed
    last = [g.get("data-lane") for g in steps[-1].iterfind("s:g[@class='change']", NS)]
    assert last == ["t0", "m0", "global"]
    texts = " ".join("".join(t.itertext()) for t in steps[-1].iter(f"{{{NS['s']}}}text"))
    assert "mbox: none → m0" in texts and "completed: {} → {m0}" in texts
    assert "u0.cur → completed, u0.cur, t0.mbox" in texts  # m0 is now in two places
    (violation,) = root.findall(".//s:g[@class='violation']", NS)
    head = violation.find("s:text", NS)
    assert "mailbox_in_one_place" in head.text and head.get("fill") == svg.RED
    assert p.doc.split(",")[0] in "".join(violation.itertext())


def test_the_lanes_of_each_model():
    names = {f: [lane.name for lane in svg.lanes(CAT.family(f).instantiate(c))]
             for f, c in [("loan", "loan-small"), ("kstack", "kstack"), ("upcall", "small")]}
    assert names["loan"] == ["t0", "t1", "t2", "t3", "k0", "k1", "m0", "m1", "global"]
    assert names["kstack"] == ["t0", "t1", "t2", "global"]
    assert names["upcall"] == ["t0", "t1", "t2", "u0", "u1", "m0", "m1", "global"]


def test_a_lasso_ends_in_a_loop_that_never_reaches_the_goal():
    _, _, p = counterexample("tiny", "no_wake_parked", "completed_delivered")
    assert p.trace.loop is not None
    root = parse(svg.sequence_diagram(p.trace, "t", doc=p.doc))
    assert "never happens" in "".join(root.find(".//s:g[@class='violation']", NS).itertext())


def test_diagrams_are_deterministic(keep_mailbox):
    _, _, p = keep_mailbox
    again = counterexample("tiny", "keep_td_mailbox", "mailbox_in_one_place")[2]
    assert svg.sequence_diagram(p.trace, "t") == svg.sequence_diagram(again.trace, "t")


def test_the_state_graph_highlights_the_shortest_counterexample(no_wake):
    model, result, p = no_wake
    data = reachable(model)
    g = graph.state_graph(data, list(model.initial_states))
    assert g.number_of_nodes() == result.stats.states == PINNED_RUNS["tiny+no_wake_parked"]["states"]
    assert g.number_of_edges() == result.stats.transitions
    path = graph.path_nodes(g, p.trace.states)
    length = PINNED_RUNS["tiny+no_wake_parked"]["lengths"]["deadlock_free"]
    assert len(path) - 1 == len(p.trace) == length
    assert nx.shortest_path_length(g, path[0], path[-1]) == length
    assert g.nodes[path[-1]]["end"] == "deadlock" and g.nodes[path[-1]]["depth"] == length
    labels = [s.label for s in p.trace.steps]
    root = parse(svg.state_graph(g, path, "t", labels=labels))
    edges = root.findall(".//s:line[@class='cx-edge']", NS)
    assert [e.get("data-action") for e in edges] == labels
    ys = [float(e.get("y2")) - float(e.get("y1")) for e in edges]
    assert len(set(ys)) == 1 and ys[0] > 0  # each step goes one BFS level down
    dot = graph.to_dot(g, "tiny", path)
    assert dot.count('color="#dc2626", penwidth=3') == length
    assert dot.count(" -> ") == g.number_of_edges()


def test_level_sizes_of_the_search_match_shortest_distances():
    fam, cfg = CAT.resolve(None, "kstack")
    model = fam.instantiate(cfg)
    levels = explore(model).stats.levels
    g = graph.state_graph(reachable(model), list(model.initial_states))
    distances = nx.single_source_shortest_path_length(g, 0)
    assert levels == [list(distances.values()).count(d) for d in range(max(distances.values()) + 1)]
    root = parse(svg.summary_chart("kstack", levels, {"a": 5, "b": 0}))
    bars = root.findall(".//s:g[@class='levels']/s:rect", NS)
    assert [int(b.get("data-states")) for b in bars] == levels
    coverage = "".join(root.find(".//s:g[@class='coverage']", NS).itertext())
    assert "never fired" in coverage


def test_the_step_table_rows_are_the_diff_of_each_step(keep_mailbox):
    from ksecheck.checker.results.text import trace_rows, trace_table
    _, _, p = keep_mailbox
    rows = trace_rows(p.trace)
    assert [r[0] for r in rows if r[0]] == ["1", "2", "3"]
    assert ("3", "tick(t0)") == rows[3][:2] and rows[3][3:] == ("completed", "{}", "{m0}")
    assert rows[4][:3] == ("", "", "") and rows[4][3:] == ("t0.loc", "USER", "RET")
    text = trace_table(p.trace)
    assert text.startswith("Counterexample to mailbox_in_one_place (3 steps)")
    assert text.rstrip().endswith("violated in the final state: mailbox_in_one_place")
