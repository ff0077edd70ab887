"""A JSON-ready summary of a block or template blob, for the operator CLI."""

from __future__ import annotations

from athena_pool.coins.block import Block, ParentBlock
from athena_pool.coins.errors import NoReservedSpaceError
from athena_pool.coins.families import BlobFamily, get_family
from athena_pool.coins.transaction import miner_tx_hash

JsonValue = str | int | bool | None | dict[str, "JsonValue"] | list["JsonValue"]


def _reserved_fields(family: BlobFamily, blob: bytes) -> dict[str, JsonValue]:
    try:
        space = family.reserved_space(blob)
    except NoReservedSpaceError:
        return {"reserved_offset": None, "reserved_size": None}
    return {"reserved_offset": space.offset, "reserved_size": space.size}


def _describe_parent(parent: ParentBlock | None) -> JsonValue:
    if parent is None:
        return None
    return {
        "major_version": parent.major_version,
        "minor_version": parent.minor_version,
        "prev_id": parent.prev_id.hex(),
        "tx_count": parent.tx_count,
        "miner_tx_version": parent.miner_tx.version,
        "blockchain_branch_depth": len(parent.blockchain_branch),
    }


def _describe_block(block: Block) -> dict[str, JsonValue]:
    return {
        "height": block.height,
        "major_version": block.major_version,
        "minor_version": block.minor_version,
        "timestamp": block.timestamp,
        "prev_id": block.prev_id.hex(),
        "nonce": block.nonce.hex(),
        "tx_count": block.tx_count,
        "miner_tx_version": block.miner_tx.version,
        "miner_tx_hash": miner_tx_hash(block.miner_tx).hex(),
        "parent": _describe_parent(block.parent),
    }


def describe(family_name: str, blob: bytes) -> dict[str, JsonValue]:
    """Everything an operator wants to see about `blob`; hashes and ids as hex.

    `hashing_blob` is what the pool sends miners (convert_blob); `pow_blob` is what consensus hashes for
    the blob as it stands. They differ only for forknote2 blobs whose parent was not built by a pool.
    """
    family = get_family(family_name)
    block = family.parse(blob)
    summary: dict[str, JsonValue] = {"family": family.name, "blob_size": len(blob)}
    summary |= _describe_block(block)
    summary |= {
        "hashing_blob": family.hashing_blob(blob).hex(),
        "pow_blob": family.pow_blob(blob).hex(),
        "block_id": family.block_id(blob).hex(),
        "nonce_offset": family.nonce_offset(blob),
        "blob_nonce_offset": family.blob_nonce_offset(blob),
    }
    return summary | _reserved_fields(family, blob)
