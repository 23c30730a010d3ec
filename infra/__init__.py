"""Code the services share, split by job.

* ``infra.kernel``: values and rules every service agrees on (topics and message fields, cards, the one
  money rule, UTC clock, principals). Standard library only: domain code may import it, and nothing else
  from ``infra``.
* ``infra.runtime``: the library the running processes use (settings, Kafka, the consumer loop,
  database, logs, metrics, rate limits, encryption). Adapters, entry points and composition roots use it.
* ``infra.stack``: the development stack behind ``make run`` (embedded broker, local Prometheus). The
  production image does not contain it, and no service imports it.
"""
