"""Shipping the audit trail off the host (security LOG-02): the logging handler that
``settings.LOGGING`` gives the ``attendance.audit`` logger.

``AUDIT_SYSLOG_ADDRESS=host:port[/udp|/tcp]`` sends each audit line to a syslog collector
(rsyslog, syslog-ng, Vector, Fluent Bit): UDP by default, TCP framed one message per line
(RFC 6587 non-transparent framing, which rsyslog's ``imtcp`` and Vector's ``syslog`` source
read by default). Unset, the lines go to stderr with the rest of the logs (development).

Imported by the settings, so it imports nothing from Django's apps.
"""

from __future__ import annotations

import logging
import socket
import time
from logging.handlers import SysLogHandler
from typing import Any

AUDIT_LOGGER = "attendance.audit"
SYSLOG_IDENT = "attendance-audit: "  # the syslog tag a collector can route on


def parse_syslog_address(address: str) -> tuple[tuple[str, int], socket.SocketKind]:
    """``host:port[/udp|/tcp]`` (IPv6 as ``[::1]:514``) → ((host, port), socket type)."""
    where, _, transport = address.strip().partition("/")
    host, sep, port = where.rpartition(":")
    kinds = {"": socket.SOCK_DGRAM, "udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}
    if not sep or not host or not port.isdigit() or transport.lower() not in kinds:
        raise ValueError(f"AUDIT_SYSLOG_ADDRESS must be host:port[/udp|/tcp], not {address!r}")
    return (host.strip("[]"), int(port)), kinds[transport.lower()]


class AuditSyslogHandler(SysLogHandler):
    """``SysLogHandler`` that never stops or stalls the app. The standard handler raises from
    its constructor when a TCP collector is down (the app would not start), connects with no
    timeout (a silent network would hang requests) and keeps a dead TCP socket for ever. Here
    a TCP connection is made lazily with ``CONNECT_TIMEOUT``, and after a failure not retried
    for ``RETRY_AFTER`` seconds: the lines meanwhile are lost (each reported on stderr by
    ``handleError``; the database trail has them all), and the next line after that reconnects.
    """

    append_nul = False  # collectors read a NUL as part of the message
    ident = SYSLOG_IDENT
    CONNECT_TIMEOUT = 1.0
    RETRY_AFTER = 10.0

    def __init__(self, address: str, facility: int = SysLogHandler.LOG_AUTHPRIV) -> None:
        target, kind = parse_syslog_address(address)
        self._retry_at = 0.0
        self._started = False
        super().__init__(address=target, facility=facility, socktype=kind)
        self._started = True

    def createSocket(self) -> None:  # noqa: N802 (logging's name)
        if self.socktype != socket.SOCK_STREAM:
            super().createSocket()  # UDP: no connection, nothing to wait for
            return
        self.unixsocket = False
        if time.monotonic() < self._retry_at:
            raise OSError(f"audit collector {self.address} unreachable; retrying shortly")
        assert isinstance(self.address, tuple)  # (host, port): never a Unix path
        try:
            self.socket = socket.create_connection(self.address, timeout=self.CONNECT_TIMEOUT)
        except OSError:
            self._retry_at = time.monotonic() + self.RETRY_AFTER
            if self._started:
                raise
            # From __init__: starting without the collector is fine; the first line retries.

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        # TCP: one message per line. The JSON holds no raw CR/LF (json.dumps escapes them).
        return line + "\n" if self.socktype == socket.SOCK_STREAM else line

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        if self.socktype == socket.SOCK_STREAM and self.socket is not None:
            self.socket.close()
            self.socket = None  # type: ignore[assignment]  # broken: the next line reconnects
        super().handleError(record)


def audit_handler(address: str) -> dict[str, Any]:
    """The ``LOGGING`` handler entry for ``AUDIT_SYSLOG_ADDRESS`` (empty: stderr)."""
    if not address:
        return {"class": "logging.StreamHandler"}
    parse_syslog_address(address)  # a typo stops the app at start, not at the first event
    return {"class": "attendance_app.log_shipping.AuditSyslogHandler", "address": address}
