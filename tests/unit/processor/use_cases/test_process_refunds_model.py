"""A stateful property test: any sequence of refunds, replays and payments behaves like a simple model.

The model: a payment has an approved amount and a refunded total; a refund succeeds iff the payment
is approved, young enough and what it asks (everything left, when it asks nothing) is positive and
fits; a refund id is decided once.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from processor.domain.refunds import Payment, RefundRequest
from processor.use_cases.process_refunds import ProcessRefunds
from tests.unit.processor.use_cases.test_process_refunds import InMemoryRefunds, Published

NOW = datetime(2026, 12, 6, 12, 0, 0)
CENTS = st.integers(min_value=0, max_value=12_000)
PAYMENTS = ("tx-approved", "tx-small", "tx-rejected", "tx-old", "tx-unknown")


class RefundMachine(RuleBasedStateMachine):
    @initialize(approved=st.integers(min_value=100, max_value=100_000))
    def open_payments(self, approved):
        self.approved = {"tx-approved": approved, "tx-small": 100, "tx-rejected": 5_000, "tx-old": 5_000}
        payments = {
            "tx-approved": Payment("tx-approved", "acct", "approved", _money(approved), NOW - timedelta(days=3)),
            "tx-small": Payment("tx-small", "acct", "approved", _money(100), NOW),
            "tx-rejected": Payment("tx-rejected", "acct", "rejected", _money(5_000), NOW),
            "tx-old": Payment("tx-old", "acct", "approved", _money(5_000), NOW - timedelta(days=181)),
        }
        self.repository, self.published = InMemoryRefunds(payments), Published()
        self.use_case = ProcessRefunds(self.repository, self.published, lambda: NOW)
        self.model_refunded = {name: 0 for name in PAYMENTS}
        self.model_outcomes: dict[str, tuple[str, int | None]] = {}
        self.next_id = 0

    @rule(payment=st.sampled_from(PAYMENTS), cents=st.one_of(st.none(), CENTS), batch=st.integers(1, 3))
    def refund(self, payment, cents, batch):
        requests = []
        for _ in range(batch):
            self.next_id += 1
            requests.append(
                RefundRequest(f"re_{self.next_id}", payment, "acct", None if cents is None else _money(cents))
            )
        outcomes = self.use_case(requests).outcomes
        for request, outcome in zip(requests, outcomes):
            expected = self._model_decides(payment, cents)
            self.model_outcomes[request.id] = expected
            assert (outcome.status, None if outcome.amount is None else _cents(outcome.amount)) == expected

    @rule(data=st.data())
    def replay(self, data):
        if not self.model_outcomes:
            return
        refund_id = data.draw(st.sampled_from(sorted(self.model_outcomes)))
        outcome = self.use_case([RefundRequest(refund_id, "tx-approved", "acct", _money(1))]).outcomes[0]
        assert (outcome.status, None if outcome.amount is None else _cents(outcome.amount)) == self.model_outcomes[
            refund_id
        ]

    @invariant()
    def never_more_than_approved(self):
        if hasattr(self, "repository"):
            for payment, refunded in self.repository.refunded.items():
                assert _cents(refunded) == self.model_refunded[payment] <= self.approved[payment]

    def _model_decides(self, payment: str, cents: int | None) -> tuple[str, int | None]:
        if cents == 0 or payment in ("tx-rejected", "tx-unknown", "tx-old"):
            return "failed", cents
        left = self.approved[payment] - self.model_refunded[payment]
        wanted = left if cents is None else cents
        if wanted <= 0 or wanted > left:
            return "failed", cents
        self.model_refunded[payment] += wanted
        return "succeeded", wanted


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


RefundMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
test_refunds_behave_like_the_model = RefundMachine.TestCase
