"""How Istio decides the protocol of a port (pure Python, mirrors istio/istio).

- ``parse`` is ``pkg/config/protocol.Parse``: case-insensitive, anything unknown is
  ``UnsupportedProtocol`` (Istio then sniffs the protocol).
- ``service_port_protocol`` is ``pkg/config/kube.ConvertProtocol``: ``appProtocol`` wins over the
  port name, the name's prefix before the first ``-`` is the protocol (``grpc-web`` is special),
  UDP is UDP, and an unrecognised name on a well-known server-first port (25, 53, 3306, 27017)
  counts as TCP.
"""

from __future__ import annotations

TCP = "TCP"
UDP = "UDP"
HTTP = "HTTP"
HTTP2 = "HTTP2"
HTTP_PROXY = "HTTP_PROXY"
HTTPS = "HTTPS"
GRPC = "GRPC"
GRPC_WEB = "GRPC-Web"
TLS = "TLS"
MONGO = "Mongo"
REDIS = "Redis"
MYSQL = "MySQL"
UNSUPPORTED = "UnsupportedProtocol"

_NAMES = {
    "tcp": TCP,
    "udp": UDP,
    "grpc": GRPC,
    "grpc-web": GRPC_WEB,
    "http": HTTP,
    "http_proxy": HTTP_PROXY,
    "http2": HTTP2,
    "https": HTTPS,
    "tls": TLS,
    "mongo": MONGO,
    "redis": REDIS,
    "mysql": MYSQL,
}

HTTP_FAMILY = frozenset({HTTP, HTTP2, HTTP_PROXY, GRPC, GRPC_WEB})
TCP_FAMILY = frozenset({TCP, HTTPS, TLS, MONGO, REDIS, MYSQL})
TLS_FAMILY = frozenset({HTTPS, TLS})

# Ports on which Istio never sniffs an unnamed port (pkg/config/kube: SMTP, DNS, MySQL, MongoDB).
WELL_KNOWN_TCP_PORTS = frozenset({25, 53, 3306, 27017})

# Ports whose usual protocol is server-first: the server talks before the client, so a sidecar that
# waits for the client's first bytes (HTTP listener / protocol detection) never sees any.
# FTP, SMTP (25, submission 587, alternative 2525), POP3, IMAP, MySQL/MariaDB, NATS, MongoDB (listed
# by Istio's docs with the other well-known ports).
SERVER_FIRST_PORTS = {
    21: "FTP",
    25: "SMTP",
    110: "POP3",
    143: "IMAP",
    587: "SMTP submission",
    2525: "SMTP",
    3306: "MySQL",
    4222: "NATS",
    27017: "MongoDB",
}


def parse(name: str | None) -> str:
    """Istio's ``protocol.Parse``."""
    if not name:
        return UNSUPPORTED
    return _NAMES.get(str(name).lower(), UNSUPPORTED)


def service_port_protocol(number, name, k8s_protocol=None, app_protocol=None) -> str:
    """The protocol istiod gives a Kubernetes Service port (``ConvertProtocol``)."""
    if k8s_protocol == "UDP":
        return UDP
    text = name if not app_protocol else app_protocol
    if app_protocol:
        special = _APP_PROTOCOLS.get(app_protocol)
        if special:
            return special
    text = text if isinstance(text, str) else ""
    if text[:8].lower() == "grpc-web":
        return GRPC_WEB
    prefix = text.split("-", 1)[0]
    result = parse(prefix)
    if result == UNSUPPORTED and number in WELL_KNOWN_TCP_PORTS:
        return TCP
    return result


_APP_PROTOCOLS = {"kubernetes.io/h2c": HTTP2, "kubernetes.io/ws": HTTP, "kubernetes.io/wss": HTTPS}


def is_http(protocol: str) -> bool:
    return protocol in HTTP_FAMILY


def is_tls(protocol: str) -> bool:
    return protocol in TLS_FAMILY
