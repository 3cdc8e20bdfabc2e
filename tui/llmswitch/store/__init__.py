"""What is on disk: config.toml, active.toml, scopes, caches, keys, the catalog, the team file.

Imports nothing: importing one module here must not load the layer."""
