"""Check results as JUnit XML, the test-report format CI systems display.

One ``<testsuite>`` per :class:`~checker.results.result.Result`, one
``<testcase>`` per property. The classname is ``model.config`` (with
``+variant`` for each variant switched on) and the name is the property.
Verdicts map as follows:

========================  ====================================================
HOLDS, REACHED            passed
VIOLATED, UNREACHED       ``<failure>``; its text is the trace (``format_trace``)
INCOMPLETE, UNKNOWN       ``<error>``: the check did not finish, it did not pass
NOT CHECKED               ``<skipped>``
========================  ====================================================
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from .result import PropertyResult, Result, Verdict
from .text import format_trace


def classname(result: Result) -> str:
    """``model.config``, with ``+variant`` appended for each variant: ``upcall.tiny+keep_td_mailbox``."""
    return f"{result.model}.{result.config or '-'}" + "".join(f"+{v}" for v in result.variants)


def _message(p: PropertyResult, result: Result) -> str:
    if p.verdict is Verdict.UNREACHED:
        return f"{p.name}: goal never reached in {result.stats.states:,} states ({p.kind})"
    if p.trace is not None:
        return f"{p.name} {p.verdict.value}: counterexample of {len(p.trace)} steps"
    return f"{p.name} {p.verdict.value}" + (f": {p.note}" if p.note else "")


def _testcase(suite: ET.Element, result: Result, p: PropertyResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname(result), name=p.name)
    if p.verdict.ok:
        return
    if p.verdict.failed:
        el = ET.SubElement(case, "failure", message=_message(p, result), type=p.verdict.value)
        lines = [f"{p.kind} property {p.name}: {p.doc}" if p.doc else f"{p.kind} property {p.name}"]
        if p.source:
            lines.append(f"source: {p.source}")
        if p.trace is not None:
            lines += ["", format_trace(p.trace)]
        el.text = "\n".join(lines) + "\n"
    elif p.verdict is Verdict.NOT_CHECKED:
        ET.SubElement(case, "skipped", message=_message(p, result))
    else:
        el = ET.SubElement(case, "error", message=_message(p, result), type=p.verdict.value)
        el.text = (p.note or result.stats.stopped_by or p.verdict.value) + "\n"


def junit_xml(results: list[Result], *, timings: bool = True) -> str:
    """JUnit XML for ``results``; ``timings=False`` leaves out times (for golden files)."""
    root = ET.Element("testsuites", name="ksecheck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        props = result.properties
        counts = {
            "tests": len(props),
            "failures": sum(p.verdict.failed for p in props),
            "errors": sum(p.verdict in (Verdict.INCOMPLETE, Verdict.UNKNOWN) for p in props),
            "skipped": sum(p.verdict is Verdict.NOT_CHECKED for p in props),
        }
        suite = ET.SubElement(root, "testsuite", name=classname(result),
                              **{k: str(v) for k, v in counts.items()})
        if timings:
            suite.set("time", f"{result.stats.seconds:.3f}")
        info = ET.SubElement(suite, "properties")
        s = result.stats
        for name, value in [*((f"constant.{k}", v) for k, v in result.constants.items()),
                            ("states", s.states), ("transitions", s.transitions),
                            ("depth", s.depth), ("complete", str(s.complete).lower()),
                            ("engine", s.engine), ("outcome", result.outcome.value)]:
            ET.SubElement(info, "property", name=name, value=str(value))
        for p in props:
            _testcase(suite, result, p)
        for k in totals:
            totals[k] += counts[k]
    for k, v in totals.items():
        root.set(k, str(v))
    if timings:
        root.set("time", f"{sum(r.stats.seconds for r in results):.3f}")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
