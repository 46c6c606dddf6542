"""Tests against real databases, loopback servers, the client libraries and a browser."""
