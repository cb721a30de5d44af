"""Reference Python client for rtserver: what a mobile app does, used by tests and bench."""

from rtclient.chat import ChatClient, ReceivedMessage

__all__ = ["ChatClient", "ReceivedMessage"]
