import gc

import pytest

from processor.__main__ import GC_YOUNG_THRESHOLD, settle_garbage_collector


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_objects_leave_the_collector_and_young_collections_are_rarer(restored_gc):
    older_generations = gc.get_threshold()[1:]
    settle_garbage_collector()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *older_generations)
    assert gc.isenabled()
