"""Code shared by every service: configuration, Kafka, database, logging, contracts."""
