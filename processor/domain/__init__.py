"""Business rules of the processor. Standard library only (plus the stdlib-only ``infra.kernel.cards``)."""
