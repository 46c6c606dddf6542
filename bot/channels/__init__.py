"""Channel adapters: one module per channel behind the interface in `base`."""
