"""`make run`'s demo merchant: one across restarts, a new one once the saved one no longer signs in."""

from __future__ import annotations

import json

import pytest

from infra.stack.demo import DEMO_FILE, demo_merchant

pytestmark = pytest.mark.slow


def test_the_saved_demo_merchant_is_reused_while_it_signs_in(running_stack):
    (running_stack.settings.var_dir / DEMO_FILE).unlink(missing_ok=True)
    first = demo_merchant(running_stack)
    assert demo_merchant(running_stack) == first
    saved = running_stack.settings.var_dir / DEMO_FILE
    assert saved.stat().st_mode & 0o777 == 0o600 and json.loads(saved.read_text()) == first


def test_a_saved_demo_merchant_the_database_no_longer_knows_is_replaced(running_stack):
    saved = running_stack.settings.var_dir / DEMO_FILE
    saved.write_text(json.dumps({"id": "acct_wiped", "name": "Demo shop", "secret": "sk_gone"}))
    fresh = demo_merchant(running_stack)
    assert fresh["id"] != "acct_wiped" and json.loads(saved.read_text()) == fresh
