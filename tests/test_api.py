"""The documented Python API: one import name, and the example of its docstring runs."""
import re

import ksecheck


def test_the_docstring_example_runs(capsys):
    code = re.search(r"::\n\n((?:    .*\n|\n)+)", ksecheck.__doc__).group(1)
    exec(compile("\n".join(line[4:] for line in code.splitlines()), "<ksecheck docstring>", "exec"), {})
    assert "Result: VIOLATED" in capsys.readouterr().out


def test_every_exported_name_exists():
    assert all(hasattr(ksecheck, name) for name in ksecheck.__all__)
    assert {"Model", "explore", "Options", "Result", "Verdict", "bmc", "pdr", "prove"} <= set(ksecheck.__all__)
