"""The transaction processor: decides each card transaction once, stores it, publishes the outcome."""
