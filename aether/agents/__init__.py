"""Getting agents to use AETHER: `aether setup` writes each MCP client's configuration
(`setup`, with the clients' file formats and locations in `clients`), and `snippet` is the
optional AGENTS.md/CLAUDE.md text. Nothing here imports the engine: setup only edits files."""
