"""Kiosk fixtures."""
from __future__ import annotations

import pytest
from kiosk_helpers import Kiosk, make_kiosk


@pytest.fixture
def kiosk(app) -> Kiosk:
    """An enrolled tablet at a service point with an open kiosk survey: made in an app context of
    its own, its rows detached (``reloaded`` fetches them again inside a context)."""
    from surveyapp.seed import seed_standard
    from tests.conftest import detached, rows_of

    with app.app_context():
        kiosk = make_kiosk(seed_standard())
        detached(*rows_of(kiosk))
        return kiosk
