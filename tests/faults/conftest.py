"""Every fault test runs the command line on :data:`tests.faults.catalogue.CATALOGUE`."""
import pytest

import ksecheck.registry

from tests.faults.catalogue import CATALOGUE


@pytest.fixture(autouse=True)
def fault_catalogue(monkeypatch):
    monkeypatch.setattr(ksecheck.registry, "catalogue", lambda: CATALOGUE)
