"""The registry: SQLAlchemy models, migrations, importers and queries."""
