"""Persistence adapters: the only package that imports SQLModel and SQLAlchemy."""
