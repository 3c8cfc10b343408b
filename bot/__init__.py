"""The Telegram application: handlers, texts, the generation service and scheduling."""
