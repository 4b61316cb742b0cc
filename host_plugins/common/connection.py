"""Where the engine is and how to reach it: address, optional CURVE key files, timeouts."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from infusion.protocol.client import CurveKeys, EngineClient

DEFAULT_ADDRESS = "tcp://127.0.0.1:5557"


@dataclass(frozen=True)
class Connection:
    """Settings of one engine connection; each thread opens its own client with :meth:`open`.

    server_key, client_key: the engine's public key file and this workstation's secret key file
    (``infusion keys``), both or neither; engines beyond loopback need them.
    """

    address: str = DEFAULT_ADDRESS
    server_key: str = ""
    client_key: str = ""
    timeout: float = 10.0
    heartbeat: float = 2.0
    reconnect_timeout: float = 120.0

    @classmethod
    def from_environment(cls, address: str = "", environ: Optional[Mapping[str, str]] = None) -> "Connection":
        """``address``, else ``$INFUSION_ENGINE``, else loopback; keys from ``$INFUSION_SERVER_KEY``
        and ``$INFUSION_CLIENT_KEY``."""
        environ = os.environ if environ is None else environ
        return cls(address or environ.get("INFUSION_ENGINE") or DEFAULT_ADDRESS,
                   environ.get("INFUSION_SERVER_KEY", ""), environ.get("INFUSION_CLIENT_KEY", ""))

    def open(self, name: str = "infusion-host") -> EngineClient:
        """A connected client (raises EngineError ``engine_unavailable`` when no engine answers)."""
        if bool(self.server_key) != bool(self.client_key):
            raise ValueError("the engine's public key and this client's secret key go together")
        curve = CurveKeys.load(self.server_key, self.client_key) if self.server_key else None
        client = EngineClient(self.address, timeout=self.timeout, curve=curve, name=name, heartbeat=self.heartbeat,
                              reconnect_timeout=self.reconnect_timeout)
        client.connect()
        return client
