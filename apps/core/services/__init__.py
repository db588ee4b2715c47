"""Core services: every write of the core app goes through a function here."""
