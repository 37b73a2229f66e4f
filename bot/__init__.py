"""Channel adapters, web server, CLI and the service that wires the engine to storage."""
