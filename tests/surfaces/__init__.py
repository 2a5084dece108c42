"""Surfaces: the CLI, dashboard, UI, published data, semantic layer, deployment."""
