"""The shared library of the running processes: settings, Kafka, the consumer loop, database, logs, metrics."""
