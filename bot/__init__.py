"""The bot: chat channels, admin commands, reminders, web server, CLI and the service wiring the engine to storage."""
