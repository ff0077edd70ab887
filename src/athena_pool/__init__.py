"""athena-pool: a mining pool for CryptoNote coins."""

__version__ = "0.1.0"
