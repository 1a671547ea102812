"""Kiosk fixtures."""
from __future__ import annotations

import pytest
from kiosk_helpers import Kiosk, make_kiosk


@pytest.fixture
def kiosk(app, standard) -> Kiosk:
    """An enrolled tablet at a service point with an open kiosk survey."""
    return make_kiosk(standard)
