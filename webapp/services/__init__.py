"""Domain logic. Plain functions over an explicit SQLAlchemy session; they flush, never commit."""
