"""What is on the wire: the bounded httpx client, the probe, gateways, Azure and Anthropic shapes.

Imports nothing: importing one module here must not load the layer."""
