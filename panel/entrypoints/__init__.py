"""What every panel process runs beside its web app: the reader of live results."""
