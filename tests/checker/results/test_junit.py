"""JUnit XML: one test case per (configuration, property), failures carrying the trace."""
import dataclasses
import xml.etree.ElementTree as ET

import pytest

from ksecheck.checker.explicit.options import Limits, Options
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.junit import classname, junit_xml
from ksecheck.model.examples import FAMILIES

FAMILY = FAMILIES[0]


def check(config, **kw):
    return explore(FAMILY.instantiate(config), Options(**kw))


@pytest.fixture(scope="module")
def inc2():
    return check("inc2")


def test_one_testcase_per_property_and_the_failure_carries_the_trace(inc2):
    root = ET.fromstring(junit_xml([inc2]))
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert {c.get("name") for c in cases} == {p.name for p in inc2.properties}
    assert {c.get("classname") for c in cases} == {"increment.inc2"}
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["no_lost_update"]
    failure = failed[0].find("failure")
    assert failure.get("type") == "VIOLATED"
    assert "4 steps" in failure.get("message")
    assert "Counterexample to no_lost_update (4 steps)" in failure.text
    assert "4. write(t1)" in failure.text and "violated in the final state" in failure.text
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["states"] == "13" and props["constant.threads"] == "2"


def test_a_passing_configuration_has_no_failures():
    root = ET.fromstring(junit_xml([check("inc2-locked")]))
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert all(len(c) == 0 for c in root.iter("testcase"))


def test_several_results_sum_up_and_variants_join_the_classname(inc2):
    variant = dataclasses.replace(inc2, variants=("a", "b"))
    assert classname(variant) == "increment.inc2+a+b"
    root = ET.fromstring(junit_xml([inc2, check("inc3"), variant]))
    assert len(root.findall("testsuite")) == 3
    assert root.get("tests") == "9" and root.get("failures") == "3"
    assert [s.get("name") for s in root.findall("testsuite")] == \
        ["increment.inc2", "increment.inc3", "increment.inc2+a+b"]


def test_an_incomplete_search_is_an_error_not_a_pass():
    result = check("inc2-locked", limits=Limits(max_depth=1))
    root = ET.fromstring(junit_xml([result]))
    errors = root.findall(".//error")
    assert root.get("errors") == str(len(errors)) == "3"  # every property: nothing decided
    assert all(e.get("type") == "INCOMPLETE" and "depth limit 1" in e.text for e in errors)


def test_an_unreached_goal_is_a_failure_without_a_trace():
    result = check("inc2-locked")
    goal = next(p for p in result.properties if p.kind == "sometimes")
    unreached = dataclasses.replace(
        result, properties=[dataclasses.replace(goal, verdict=type(goal.verdict)("UNREACHED"),
                                                trace=None)])
    failure = ET.fromstring(junit_xml([unreached])).find(".//failure")
    assert failure.get("type") == "UNREACHED" and "never reached in 5 states" in failure.get("message")


def test_without_timings_the_xml_is_the_same_every_run(inc2):
    assert junit_xml([inc2], timings=False) == junit_xml([check("inc2")], timings=False)
    assert "time=" not in junit_xml([inc2], timings=False)
    assert 'time="' in junit_xml([inc2])
