"""Who may talk to the engine: loopback (and ``ipc://``) needs nothing; any other address needs
CurveZMQ (a server secret key and a folder of allowed client public keys, checked by
``zmq.auth``) or an explicit ``--insecure``. Key pairs are made here too.

The allowed folder is read again while the engine serves (:class:`AllowedKeys`): a key added is
admitted at its next connection, a key removed is refused from its next message on (connections
already open included). With CURVE a job belongs to the key that submitted it; admin keys
(``--curve-admin-key``) see every job."""
from __future__ import annotations

import ipaddress
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet, List, Optional, Sequence, Tuple

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
    admins: FrozenSet[str] = frozenset()  # Z85 public keys that see and manage every job

    @classmethod
    def load(cls, secret_key_file: Path, allowed_clients: Path, admin_keys: Sequence[Path] = ()) -> "CurveServer":
        public, secret = zmq.auth.load_certificate(str(secret_key_file))
        if not secret:
            raise ValueError(f"{secret_key_file} holds no secret key (use the .key_secret file)")
        if not Path(allowed_clients).is_dir():
            raise ValueError(f"the allowed client keys folder {allowed_clients} does not exist")
        admins = frozenset(zmq.auth.load_certificate(str(path))[0].decode("ascii") for path in admin_keys)
        return cls(public, secret, Path(allowed_clients), admins)


class AllowedKeys:
    """The allowed client keys as the folder holds them now, read again when it changes."""

    def __init__(self, authenticator: ThreadAuthenticator, folder: Path):
        self.authenticator, self.folder = authenticator, folder
        self.seen: Tuple[Tuple[str, int, int], ...] = ()
        self.keys: FrozenSet[str] = frozenset()
        self.reload()

    def reload(self) -> bool:
        """Read the folder again if a key file was added, removed or changed; whether it was. A file
        that holds no readable key admits nobody and is named on stderr."""
        listing = tuple(sorted(_stamp(p) for p in self.folder.glob("*.key") if p.is_file()))
        if listing == self.seen:
            return False
        self.seen = listing
        keys = set()
        for name, _, _ in listing:
            try:
                keys.add(zmq.auth.load_certificate(str(self.folder / name))[0].decode("ascii"))
            except (OSError, ValueError) as error:
                print(f"infusion serve: warning: {self.folder / name} holds no usable public key, skipped: {error}",
                      file=sys.stderr, flush=True)
        self.keys = frozenset(keys)
        self.authenticator.configure_curve(domain="*", location=str(self.folder))  # what the next handshake checks
        return True


def _stamp(path: Path) -> Tuple[str, int, int]:
    """What tells a key file changed: its name, modification time and size (0, 0 if it just vanished)."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return path.name, 0, 0
    return path.name, found.st_mtime_ns, found.st_size


def check_bind_policy(endpoint: str, curve: Optional[CurveServer], insecure: bool) -> None:
    """Refuse a non-local bind without CURVE keys unless the operator said ``--insecure``."""
    if not is_local_endpoint(endpoint) and curve is None and not insecure:
        raise ValueError(f"binding {endpoint} exposes the engine beyond this machine: give --curve-secret-key and "
                         "--curve-allowed-clients (see `infusion keys`), or --insecure on a trusted network")


def secure_socket(context: zmq.Context, socket: zmq.Socket, curve: CurveServer) -> Tuple[ThreadAuthenticator, AllowedKeys]:
    """Make ``socket`` a CURVE server that admits only the allowed client keys; returns the running
    authenticator and the keys it admits."""
    authenticator = ThreadAuthenticator(context)
    authenticator.start()
    allowed = AllowedKeys(authenticator, curve.allowed_clients)
    socket.curve_secretkey = curve.secret
    socket.curve_publickey = curve.public
    socket.curve_server = True
    return authenticator, allowed


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
