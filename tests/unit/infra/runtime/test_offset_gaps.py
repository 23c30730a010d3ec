from dataclasses import dataclass

from infra.runtime.offset_gaps import OffsetGaps


@dataclass
class Msg:
    """The three accessors of confluent_kafka.Message that OffsetGaps reads."""

    t: str
    p: int
    o: int

    def topic(self):
        return self.t

    def partition(self):
        return self.p

    def offset(self):
        return self.o


def offsets(messages):
    return [(m.partition(), m.offset()) for m in messages]


def test_a_batch_without_holes_passes_whole():
    gaps = OffsetGaps()
    batch = [Msg("t", 0, 0), Msg("t", 1, 7), Msg("t", 0, 1), Msg("t", 1, 8)]
    assert gaps.cut(batch) == (batch, [])


def test_a_hole_cuts_that_partition_and_asks_to_re_read_from_the_missing_offset():
    gaps = OffsetGaps()
    gaps.cut([Msg("t", 0, 0), Msg("t", 1, 0)])
    kept, rewinds = gaps.cut([Msg("t", 0, 1), Msg("t", 1, 2), Msg("t", 0, 2), Msg("t", 1, 3)])
    assert offsets(kept) == [(0, 1), (0, 2)]
    assert [(r.topic, r.partition, r.offset) for r in rewinds] == [("t", 1, 1)]
    kept, rewinds = gaps.cut([Msg("t", 1, 1), Msg("t", 1, 2)])
    assert offsets(kept) == [(1, 1), (1, 2)] and rewinds == []


def test_a_hole_that_stays_is_accepted_after_the_grace_period():
    now = [100.0]
    gaps = OffsetGaps(give_up_after=5, clock=lambda: now[0])
    gaps.cut([Msg("t", 0, 0)])
    for waited in (0, 4.9):  # inside the grace period: re-read from the first missing offset, keep nothing
        now[0] = 100.0 + waited
        kept, rewinds = gaps.cut([Msg("t", 0, 5)])
        assert kept == [] and [(r.topic, r.partition, r.offset) for r in rewinds] == [("t", 0, 1)]
    assert gaps.accepted == 0
    now[0] = 100.0 + 6
    kept, rewinds = gaps.cut([Msg("t", 0, 5)])
    assert offsets(kept) == [(0, 5)] and rewinds == [] and gaps.accepted == 1


def test_redelivered_older_offsets_are_kept_and_never_move_the_expectation_back():
    gaps = OffsetGaps()
    gaps.cut([Msg("t", 0, 10)])
    kept, rewinds = gaps.cut([Msg("t", 0, 3), Msg("t", 0, 11)])
    assert offsets(kept) == [(0, 3), (0, 11)] and rewinds == []


def test_a_forgotten_partition_starts_over_from_whatever_comes_first():
    gaps = OffsetGaps()
    gaps.cut([Msg("t", 0, 10)])
    gaps.forget([("t", 0)])
    assert offsets(gaps.cut([Msg("t", 0, 500)])[0]) == [(0, 500)]


def position(partition, offset, topic="t"):
    from confluent_kafka import TopicPartition

    return TopicPartition(topic, partition, offset)


def test_a_hole_at_the_first_offset_after_an_assignment_is_caught_from_the_seeded_position():
    gaps = OffsetGaps()
    gaps.seed([position(0, 100), position(1, 0)])
    kept, rewinds = gaps.cut([Msg("t", 0, 101), Msg("t", 0, 102), Msg("t", 1, 0)])
    assert offsets(kept) == [(1, 0)]
    assert [(r.partition, r.offset) for r in rewinds] == [(0, 100)]
    assert offsets(gaps.cut([Msg("t", 0, 100), Msg("t", 0, 101)])[0]) == [(0, 100), (0, 101)]


def test_a_logical_seed_offset_leaves_the_partition_to_its_first_read_offset():
    gaps = OffsetGaps()
    gaps.seed([position(0, -1001)])  # OFFSET_INVALID: nothing known
    assert offsets(gaps.cut([Msg("t", 0, 7)])[0]) == [(0, 7)]


def test_a_gap_seen_filled_and_seen_again_gets_a_new_grace_period():
    now = [100.0]
    gaps = OffsetGaps(give_up_after=5, clock=lambda: now[0])
    gaps.seed([position(0, 5)])
    assert gaps.cut([Msg("t", 0, 6)])[0] == []  # hole at 5, first seen at 100
    now[0] += 1
    assert offsets(gaps.cut([Msg("t", 0, 5), Msg("t", 0, 6)])[0]) == [(0, 5), (0, 6)]  # filled
    now[0] += 60
    gaps.seed([position(0, 5)])  # reassigned: read again from the committed offset 5
    kept, rewinds = gaps.cut([Msg("t", 0, 6)])
    assert kept == [] and [(r.partition, r.offset) for r in rewinds] == [(0, 5)] and gaps.accepted == 0


def test_each_accepted_gap_is_reported_once():
    now, reported = [0.0], []
    gaps = OffsetGaps(give_up_after=5, clock=lambda: now[0], on_accept=lambda: reported.append(1))
    gaps.seed([position(0, 0)])
    gaps.cut([Msg("t", 0, 3)])
    now[0] = 6
    assert offsets(gaps.cut([Msg("t", 0, 3)])[0]) == [(0, 3)]
    assert offsets(gaps.cut([Msg("t", 0, 4)])[0]) == [(0, 4)]
    assert reported == [1] and gaps.accepted == 1


def test_a_forgotten_partition_forgets_its_open_gap_too():
    now = [0.0]
    gaps = OffsetGaps(give_up_after=5, clock=lambda: now[0])
    gaps.seed([position(0, 0)])
    gaps.cut([Msg("t", 0, 2)])
    gaps.forget([("t", 0)])
    now[0] = 10
    gaps.seed([position(0, 0)])
    assert gaps.cut([Msg("t", 0, 2)])[0] == [] and gaps.accepted == 0
