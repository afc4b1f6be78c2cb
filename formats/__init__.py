"""The codec contract (api), the registry, and one module per codec."""
