"""One module per command group; each has ``configure(name, parser)`` and its ``cmd_*`` functions."""
