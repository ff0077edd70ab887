"""The TLS side of the stratum ports: one server context, built from the configured PEM files."""

from __future__ import annotations

import ssl

from athena_pool.stratum.settings import TlsSettings

TLS_HANDSHAKE_RECORD = 0x16  # the first byte of a TLS ClientHello: how an auto-detect port tells TLS apart


def server_context(settings: TlsSettings) -> ssl.SSLContext:
    """Raises OSError / ssl.SSLError when the files are missing or do not match (the pool won't start)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if settings.minimum_version == "1.3" else ssl.TLSVersion.TLSv1_2
    )
    context.load_cert_chain(certfile=settings.cert_file, keyfile=settings.key_file)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    return context
