"""pytest set-up for the fleet tests: the `long` marker, run only with SESSIONKIT_LONG=1."""
from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "long: slower fleet scenarios, run only when SESSIONKIT_LONG=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SESSIONKIT_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long scenario: set SESSIONKIT_LONG=1 to run it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
