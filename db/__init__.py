"""SQLAlchemy models, sessions, migrations and the queries the bot and trainer need."""
