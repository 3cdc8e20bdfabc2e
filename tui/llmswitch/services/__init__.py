"""What a command does: switch, models, matching, onboarding, doctor, add URL, budgets.

Imports nothing: importing one module here must not load the layer."""
