"""The chat channels: Telegram, Zalo and the terminal demo, each with its own sender and error mapping."""
