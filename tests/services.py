"""Is a local service listening? (Tests that need one skip without it, except in CI.)"""

import socket


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False
