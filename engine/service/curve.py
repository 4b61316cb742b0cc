"""Who may talk to the engine: loopback (and ``ipc://``) needs nothing; any other address needs
CurveZMQ (a server secret key and a folder of allowed client public keys, checked by
``zmq.auth``) or an explicit ``--insecure``. Key pairs are made here too."""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

_TCP = re.compile(r"tcp://(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:/]+)):(?P<port>\d+|\*)")


def is_local_endpoint(endpoint: str) -> bool:
    """True for tcp:// on a loopback address (or ``localhost``) and for ipc:// sockets."""
    if endpoint.startswith("ipc://"):
        return True
    match = _TCP.fullmatch(endpoint)
    if not match:
        raise ValueError(f"bind address {endpoint!r} must look like tcp://HOST:PORT or ipc://PATH")
    host = match.group("v6") or match.group("host")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # an interface name or a host name: not known to be local


@dataclass(frozen=True)
class CurveServer:
    """The engine's key pair and the folder of allowed client public keys."""

    public: bytes
    secret: bytes
    allowed_clients: Path

    @classmethod
    def load(cls, secret_key_file: Path, allowed_clients: Path) -> "CurveServer":
        public, secret = zmq.auth.load_certificate(str(secret_key_file))
        if not secret:
            raise ValueError(f"{secret_key_file} holds no secret key (use the .key_secret file)")
        if not Path(allowed_clients).is_dir():
            raise ValueError(f"the allowed client keys folder {allowed_clients} does not exist")
        return cls(public, secret, Path(allowed_clients))


def check_bind_policy(endpoint: str, curve: Optional[CurveServer], insecure: bool) -> None:
    """Refuse a non-local bind without CURVE keys unless the operator said ``--insecure``."""
    if not is_local_endpoint(endpoint) and curve is None and not insecure:
        raise ValueError(f"binding {endpoint} exposes the engine beyond this machine: give --curve-secret-key and "
                         "--curve-allowed-clients (see `infusion keys`), or --insecure on a trusted network")


def secure_socket(context: zmq.Context, socket: zmq.Socket, curve: CurveServer) -> ThreadAuthenticator:
    """Make ``socket`` a CURVE server that admits only the allowed client keys; returns the running authenticator."""
    authenticator = ThreadAuthenticator(context)
    authenticator.start()
    authenticator.configure_curve(domain="*", location=str(curve.allowed_clients))
    socket.curve_secretkey = curve.secret
    socket.curve_publickey = curve.public
    socket.curve_server = True
    return authenticator


def create_keys(folder: Path, name: str) -> List[str]:
    """Write a key pair ``name.key`` (public) and ``name.key_secret`` into ``folder``; returns their paths."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ValueError(f"key name {name!r} must be letters, digits, '.', '_' or '-'")
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / f"{name}.key_secret").exists():
        raise ValueError(f"{folder / (name + '.key_secret')} exists already; pick another name")
    public, secret = zmq.auth.create_certificates(str(folder), name)
    os.chmod(secret, 0o600)
    return [public, secret]
