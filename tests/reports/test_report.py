"""The committed report: regenerated once here, compared with reports/, and read for content.

Regenerating explores every ci configuration and variant (about half a minute);
the runs are collected once for the whole module.
"""
import json
import re
import xml.etree.ElementTree as ET
from argparse import ArgumentParser
from pathlib import Path

import pytest

import ksecheck.reports
from ksecheck.checker.regress import load
from ksecheck.registry import PINNED, catalogue
from ksecheck.cli import report as cli
from ksecheck.reports import generate
from ksecheck.reports.build import collect, kse_families

REPORTS = Path(ksecheck.reports.__file__).parent
PINNED_RUNS = load(PINNED)
CAT = catalogue()


@pytest.fixture(scope="module")
def collected():
    return collect(CAT, PINNED)


@pytest.fixture(scope="module")
def files(collected):
    return generate.files_of(collected)


def test_the_committed_report_is_up_to_date(files):
    stale = [rel for rel, text in files.items()
             if not (REPORTS / rel).is_file() or (REPORTS / rel).read_text(encoding="utf-8") != text]
    extra = [p.relative_to(REPORTS).as_posix() for p in (REPORTS / "img").glob("*")
             if p.relative_to(REPORTS).as_posix() not in files]
    assert not stale and not extra, (
        f"reports/ is stale (differs: {stale[:5]}, no longer generated: {extra[:5]}): "
        "regenerate it with `ksecheck report` and commit the result")


def test_the_report_has_no_timings(files, collected):
    md = files[generate.MARKDOWN]
    assert "states/s" not in md and not re.search(r"\d+\.\d+ s\b", md)
    collected.timings = True
    try:
        timed = generate.files_of(collected)[generate.MARKDOWN]
    finally:
        collected.timings = False
    assert "states/s" in timed and re.search(r"\d+\.\d\d s\b", timed)


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find("<h3", start + 1)
    return html[start:end if end > 0 else len(html)]


def test_every_variant_appears_with_its_pinned_counterexample_lengths(files):
    html, md = files[generate.HTML], files[generate.MARKDOWN]
    for fam in kse_families(CAT):
        for v in fam.variants:
            section = _section(html, f"variant-{v.name}-{fam.name}")
            assert v.name in section and v.name in md
            for config in v.check_on:
                pinned = PINNED_RUNS.get(f"{config}+{v.name}")
                if pinned is None:
                    assert "not pinned yet" in section
                    continue
                for prop, verdict in pinned["verdicts"].items():
                    length = pinned.get("lengths", {}).get(prop)
                    shown = f"{verdict}, {length} step" if length is not None else verdict
                    assert shown in section, (v.name, config, prop)


def test_the_tables_show_the_pinned_state_counts(files):
    md = files[generate.MARKDOWN]
    for fam in kse_families(CAT):
        for cfg in fam.configs:
            pinned = PINNED_RUNS.get(cfg.name)
            if cfg.tier == "benchmark" or pinned is None:  # benchmarks are not reported
                assert cfg.tier != "ci", f"{cfg.name} is not pinned"
                continue
            row = next(line for line in md.splitlines() if line.startswith(f"| `{cfg.name}` "))
            cells = [c.strip() for c in row.split("|")]
            assert f"{pinned['states']:,}" in cells and f"{pinned['transitions']:,}" in cells
            assert ("pinned" in row) == (cfg.tier == "slow")


def test_every_picture_is_svg_and_every_counterexample_is_drawn(files, collected):
    svgs = {rel: text for rel, text in files.items() if rel.endswith(".svg")}
    for rel, text in svgs.items():
        assert ET.fromstring(text).tag == "{http://www.w3.org/2000/svg}svg", rel
    md, html = files[generate.MARKDOWN], files[generate.HTML]
    linked = set(re.findall(r"\]\((img/[^)]+\.svg)\)", md))
    assert linked == set(svgs)
    inline = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(inline) == len(svgs) and all(ET.fromstring(s) is not None for s in inline)
    for run in collected.variants:  # a diagram per run with a counterexample, unless a repeat
        traces = [p for p in (run.result.violated if run.result is not None else [])
                  if p.name in run.variant.violates and p.trace is not None]
        if traces:
            drawn = [rel for rel in svgs if rel.startswith(f"img/cx-{run.key.replace('+', '-')}-")]
            section = _section(html, f"variant-{run.variant.name}-{run.family.name}")
            assert drawn or f"On <code>{run.config.name}</code> the counterexample" in section
            for rel in drawn:
                steps = ET.fromstring(svgs[rel]).findall(".//{http://www.w3.org/2000/svg}g[@class='step']")
                assert len(steps) in {len(p.trace) for p in traces}


def test_the_state_graph_path_is_the_pinned_counterexample(files, collected):
    sg = collected.state_graph
    key = f"{sg.config.name}+{sg.variant.name}"
    assert len(sg.path) - 1 == PINNED_RUNS[key]["lengths"][sg.goal]
    root = ET.fromstring(files[f"img/{sg.config.name}-state-graph.svg"])
    assert len(root.findall(".//{http://www.w3.org/2000/svg}line[@class='cx-edge']")) == len(sg.path) - 1
    dot = files[f"{sg.config.name}-state-graph.dot"]
    assert dot.startswith("digraph") and dot.count("penwidth=3") == len(sg.path) - 1


def test_the_report_subcommand_writes_the_files(tmp_path, files, monkeypatch, capsys):
    parser = ArgumentParser()
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", "--out", str(tmp_path)])
    assert args.out == tmp_path and not args.timings
    assert parser.parse_args(["report"]).out == REPORTS
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "old.svg").write_text("<svg/>")
    monkeypatch.setattr(generate, "generate", lambda *a, **k: files)
    assert cli.run(args) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "img" / "old.svg").read_text() == "<svg/>"  # the user's, not the report's
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} == \
        set(files) | {"img/old.svg", generate.MANIFEST}
    assert json.dumps(sorted(files))  # plain text file names


def test_a_picture_the_report_no_longer_draws_goes_on_the_next_run(tmp_path, files):
    generate.write(files, tmp_path)
    dropped = min(rel for rel in files if rel.endswith(".svg"))
    fewer = {rel: text for rel, text in files.items() if rel != dropped}
    generate.write(fewer, tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()} == \
        set(fewer) | {generate.MANIFEST}
