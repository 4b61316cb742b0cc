"""Infusion wire protocol and client (pure Python: pyzmq and msgpack only)."""
