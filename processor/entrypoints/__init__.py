"""What the processor's process runs: the process object, the Kafka batch handlers and their message decoding."""
