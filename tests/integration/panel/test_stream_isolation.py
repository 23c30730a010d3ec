"""Merchant A's live stream never carries merchant B's results nor refunds, asked for or not; the
operator's carries both. Read as raw Server-Sent Events, as any script with A's cookie could (no browser)."""

import json
import threading

import requests

from infra.kernel.contracts import RefundResult, TransactionResult
from infra.runtime.kafka import Record, build_acked_producer

from tests.integration.gateway_api.support import create_merchant
from tests.integration.panel.conftest import as_merchant, as_operator, sign_in
from tests.support import wait_until
from tests.support.http import hang_up


class RawStream:
    def __init__(self, panel_url: str, form: dict, query: str = ""):
        self.results: list[dict] = []
        self.refunds: list[dict] = []
        self.said_hello = threading.Event()
        self._browser, answer = sign_in(panel_url, form)
        assert answer.status_code == 302, answer.text
        self._response = self._browser.get(f"{panel_url}/stream{query}", stream=True, timeout=(5, 30))
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = ""
        try:
            for line in self._response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                    self.said_hello.set() if event == "hello" else None
                elif line.startswith("data: ") and event in ("result", "refund"):
                    (self.results if event == "result" else self.refunds).append(json.loads(line[6:]))
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed by the test

    def ids(self) -> set[str]:
        return {result["id"] for result in self.results}

    def accounts(self) -> set[str]:
        return {result["account_id"] for result in self.results}

    def refund_ids(self) -> set[str]:
        return {refund["id"] for refund in self.refunds}

    def close(self) -> None:
        hang_up(self._response)
        self._browser.close()


def publish(kafka_settings, account_id: str, ids: list[str]) -> None:
    records = [
        Record(
            kafka_settings.topics.results,
            TransactionResult(
                id_,
                "approved",
                "",
                account_id,
                "10.00",
                "visa",
                "1111",
                "2026-11-23T10:00:00+00:00",
                "2026-11-23T10:00:01+00:00",
            ).to_json(),
            account_id.encode(),
        )
        for id_ in ids
    ]
    build_acked_producer(kafka_settings, "test").send(records, timeout=10)


def publish_refunds(kafka_settings, account_id: str, ids: list[str]) -> None:
    records = [
        Record(
            kafka_settings.topics.refunds_result,
            RefundResult(
                id_,
                f"tx-of-{id_}",
                account_id,
                "failed" if id_.endswith("f") else "succeeded",
                "2.50",
                "amount_exceeds_refundable" if id_.endswith("f") else None,
                "2.50",
                "2026-11-23T10:00:02+00:00",
            ).to_json(),
            account_id.encode(),
        )
        for id_ in ids
    ]
    build_acked_producer(kafka_settings, "test").send(records, timeout=10)


def test_a_merchants_raw_stream_never_carries_another_merchants_results(api, start_panel, kafka_settings):
    panel_url = start_panel()
    shop_a, shop_b = create_merchant(api[1], "Shop A"), create_merchant(api[1], "Shop B")
    streams = [
        RawStream(panel_url, as_merchant(shop_a)),
        RawStream(panel_url, as_merchant(shop_a), query=f"?account_id={shop_b[0]}"),
        RawStream(panel_url, as_merchant(shop_b)),
        RawStream(panel_url, as_operator()),
    ]
    of_a, asking_for_b, own_b, operator = streams
    try:
        assert all(stream.said_hello.wait(10) for stream in streams)
        publish(kafka_settings, shop_b[0], ["b-1", "b-2"])
        publish(kafka_settings, shop_a[0], ["a-1"])
        wait_until(lambda: operator.ids() == {"a-1", "b-1", "b-2"}, 15, message="every result on the operator's stream")
        wait_until(lambda: "a-1" in of_a.ids() and own_b.ids() == {"b-1", "b-2"}, 5, message="own results")
        assert (of_a.ids(), of_a.accounts()) == ({"a-1"}, {shop_a[0]})
        assert asking_for_b.ids() <= {"a-1"}
        assert own_b.accounts() == {shop_b[0]}
    finally:
        for stream in streams:
            stream.close()


def test_a_merchants_raw_stream_carries_its_own_refund_rows_and_never_another_merchants(
    api, start_panel, kafka_settings
):
    panel_url = start_panel()
    shop_a, shop_b = create_merchant(api[1], "Shop A"), create_merchant(api[1], "Shop B")
    streams = [
        RawStream(panel_url, as_merchant(shop_a)),
        RawStream(panel_url, as_merchant(shop_a), query=f"?account_id={shop_b[0]}"),
        RawStream(panel_url, as_merchant(shop_b)),
        RawStream(panel_url, as_operator()),
    ]
    of_a, asking_for_b, own_b, operator = streams
    try:
        assert all(stream.said_hello.wait(10) for stream in streams)
        publish_refunds(kafka_settings, shop_b[0], ["re_b1", "re_b2f"])
        publish_refunds(kafka_settings, shop_a[0], ["re_a1f"])
        wait_until(
            lambda: operator.refund_ids() == {"re_a1f", "re_b1", "re_b2f"},
            15,
            message="every refund on the operator's stream",
        )
        wait_until(
            lambda: "re_a1f" in of_a.refund_ids() and own_b.refund_ids() == {"re_b1", "re_b2f"},
            5,
            message="own refunds",
        )
        assert of_a.refunds == [
            {
                "id": "re_a1f",
                "object": "refund",
                "status": "failed",
                "transaction": "tx-of-re_a1f",
                "amount": "2.50",
                "failure_reason": "amount_exceeds_refundable",
                "account_id": shop_a[0],
                "amount_refunded": "2.50",
                "processed_at": "2026-11-23T10:00:02+00:00",
            }
        ]
        assert asking_for_b.refund_ids() <= {"re_a1f"}
        assert {refund["account_id"] for refund in own_b.refunds} == {shop_b[0]}
        assert not any(stream.results for stream in streams)  # refunds never pose as payments
    finally:
        for stream in streams:
            stream.close()
