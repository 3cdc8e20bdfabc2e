"""Other programs: one module per tool (connect and import).

Imports nothing: importing one module here must not load the layer."""
