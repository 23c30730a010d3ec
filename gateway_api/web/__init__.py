"""The HTTP edge: one blueprint per feature, schemas, authentication, error translation."""
