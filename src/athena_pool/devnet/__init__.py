"""A simulated Athena network: a daemon and a wallet speaking the real RPC over a chain of real blocks.

    async with start_devnet(DevnetOptions(daemon_port=0, wallet_port=0, data_dir=path)) as devnet:
        ...  # devnet.daemon_url, devnet.wallet_url, devnet.pool_address, devnet.chain, devnet.ledger

`athena-pool devnet` runs the same thing as a process (see `devnet/cli.py`).
"""

from athena_pool.devnet.runner import DevnetOptions, RunningDevnet, start_devnet

__all__ = ["DevnetOptions", "RunningDevnet", "start_devnet"]
