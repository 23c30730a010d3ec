"""What the API does, written against abstract ports (``ports.py``), free of Flask and SQLAlchemy."""
