"""`athena-pool tools` as an operator runs it: a real process, stdout, stderr and the exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

ATHENA_ADDRESS = (
    "athena28QHa49cTHWjRLYN1XW46Xj8D2mPiu7bovQ67V4z1C84R16VSJvbHmD2Yfq5Yvw5GKVTnfuS5pX3LXH3LNPezfLhhe5Lc27"
)
MONERO_GENERAL_FUND = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "athena_pool", *args], capture_output=True, text=True, timeout=120, check=False
    )


def assert_clean_usage_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_hash_prints_the_vector_hash(pow_vectors: list[dict[str, Any]]) -> None:
    for algo in ("cn-lite/1", "cn-pico/trtl", "argon2/chukwav2"):
        vector = next(v for v in pow_vectors if v["algo"] == algo)
        result = run_cli("tools", "hash", algo, vector["input_hex"])
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == vector["output_hex"]


def test_hash_with_height_and_seed(pow_vectors: list[dict[str, Any]]) -> None:
    cn_r = next(v for v in pow_vectors if v["algo"] == "cn/r")
    result = run_cli("tools", "hash", "cn/r", cn_r["input_hex"], "--height", str(cn_r["height"]))
    assert result.stdout.strip() == cn_r["output_hex"]
    rx = next(v for v in pow_vectors if v["algo"] == "rx/0")
    result = run_cli("tools", "hash", "randomx", rx["input_hex"], "--seed", rx["seed_hex"])
    assert result.stdout.strip() == rx["output_hex"]


def test_block_describes_a_real_athena_family_block(block_vectors: list[dict[str, Any]]) -> None:
    for vector in block_vectors:
        if vector["kind"] != "block":
            continue
        result = run_cli("tools", "block", vector["family"], vector["blob_hex"])
        assert result.returncode == 0, result.stderr
        described = json.loads(result.stdout)
        assert described["block_id"] == vector["expected_id_hex"]
        assert described["height"] == vector["height"]
        assert described["major_version"] == vector["major_version"]
        assert described["nonce_offset"] == vector["nonce_offset_in_hashing_blob"]
        if vector["family"] != "forknote2":  # forknote2 blocks on chain store the parent as mined
            assert described["hashing_blob"] == vector["expected_hashing_blob_hex"]


def test_block_describes_a_template(block_vectors: list[dict[str, Any]]) -> None:
    template = next(v for v in block_vectors if v["kind"] == "template" and v["family"] == "forknote2")
    described = json.loads(run_cli("tools", "block", "forknote2", template["blob_hex"]).stdout)
    assert described["hashing_blob"] == template["expected_hashing_blob_hex"]
    assert described["reserved_offset"] == template["reserved_payload_offset_in_blob"]


def test_address_kinds_and_parts() -> None:
    described = json.loads(run_cli("tools", "address", ATHENA_ADDRESS).stdout)
    assert described["kind"] == "standard"
    assert described["prefix"] == 6581243850
    described = json.loads(run_cli("tools", "address", MONERO_GENERAL_FUND, "--coin", "monero").stdout)
    assert described["kind"] == "standard"
    assert described["prefix"] == 18


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("tools", "hash", "cn-lite/1", "abc"), "odd number of hex digits"),
        (("tools", "hash", "cn-lite/1", "zz"), "not hex"),
        (("tools", "hash", "cn/9", "00"), "unknown algorithm 'cn/9'"),
        (("tools", "hash", "cn-lite/1", "00" * 20), "at least 43 bytes"),
        (("tools", "hash", "rx/0", "00"), "needs --seed"),
        (("tools", "block", "forknote2", "0400"), "truncated"),
        (("tools", "block", "bitcoin", "00"), "bitcoin"),
        (("tools", "address", MONERO_GENERAL_FUND), "Monero address, not an Athena one"),
        (("tools", "address", ATHENA_ADDRESS[:-1] + "8"), "checksum"),
        (("tools", "address", "athena0" + ATHENA_ADDRESS[7:]), "character '0'"),
        (("tools", "address", ATHENA_ADDRESS, "--coin", "dogecoin"), "dogecoin"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], expected: str) -> None:
    assert_clean_usage_error(run_cli(*args), expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("tools", "hash", "cn/0", "00", "--height", "abc"),
            "athena-pool tools hash: argument --height: invalid int value: 'abc'",
        ),
        (
            ("tools", "hash", "cn/0"),
            "athena-pool tools hash: the following arguments are required: input_hex",
        ),
        (("tools", "frobnicate"), "athena-pool tools: argument TOOL: invalid choice: 'frobnicate'"),
        ((), "athena-pool: the following arguments are required: COMMAND"),
        (("config", "check"), "athena-pool config check: the following arguments are required: FILE"),
        (("miner",), "athena-pool miner: the following arguments are required: --url, --user"),
        (("tools", "address", ATHENA_ADDRESS, "--bogus"), "athena-pool: unrecognized arguments: --bogus"),
    ],
)
def test_argparse_usage_errors_are_one_line_and_exit_2(args: tuple[str, ...], expected: str) -> None:
    result = run_cli(*args)
    assert_clean_usage_error(result, expected)
    assert result.stderr.startswith(expected)  # the program and subcommand first, no "usage:" block


def test_help_is_still_the_full_help() -> None:
    result = run_cli("tools", "hash", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: athena-pool tools hash")
    assert "--height" in result.stdout
