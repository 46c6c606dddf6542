"""Fakes of the outside services (on loopback), fixtures and data shared by every tier."""
