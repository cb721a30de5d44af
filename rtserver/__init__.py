"""rtserver: the realtime server of an online counseling service."""

__version__ = "0.1.0"
