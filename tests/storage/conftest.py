"""Storage's tests run on both backends: `store` is the single file and a lake in turn."""

from __future__ import annotations

import pytest

from storage import Store


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store
