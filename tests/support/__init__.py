"""Test support: services on this machine, running servers, and clients that speak to them."""
