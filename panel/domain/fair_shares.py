"""Fair shares of the live panel: no tenant can take it from the others or from the operator.

* Live streams: each holds a worker thread for as long as it is open. A merchant may hold
  ``STREAMS_PER_MERCHANT`` across all its sessions, tabs, panel processes and replicas (counted
  in the shared store); in each process ``OPERATOR_RESERVED_STREAMS`` of the threads for streams
  are the operator's alone, so the operator always gets a live view, however many merchants ask.
* Sign-ins: each opens an API session and, usually, streams. Per client address the failed ones
  count (a flood of guesses), per account the successful ones (so nobody can lock a merchant out by
  failing for it).
"""

from __future__ import annotations

from dataclasses import dataclass

STREAMS_PER_MERCHANT = 8
OPERATOR_RESERVED_STREAMS = 8
# A stream renews its lease at every heartbeat (15 s); a process that died stops renewing, and its
# leases lapse after this long.
STREAM_LEASE_SECONDS = 45


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window_seconds: int


SIGN_INS_PER_ADDRESS = Policy("sign_in_address", 20, 60)
SIGN_INS_PER_ACCOUNT = Policy("sign_in_account", 20, 60)  # as the API's sessions policy
