"""The ground floor: errors, paths, safe files, trust, URLs, redaction, bounded reads (stdlib only).

Imports nothing: importing one module here must not load the layer."""
