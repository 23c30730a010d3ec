"""Use cases of the panel that need neither Flask nor Kafka: fanning live results out to viewers."""
