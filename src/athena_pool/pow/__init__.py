"""Proof of work: CryptoNight (own C extension), Argon2 chukwa (argon2-cffi), RandomX (librandomx)."""

from athena_pool.pow.algorithms import (
    UnknownAlgorithmError,
    algorithm_info,
    algorithm_names,
    canonical_name,
    create_algorithm,
)
from athena_pool.pow.base import PowAlgorithm, PowError
from athena_pool.pow.verifier import PowVerifier

__all__ = [
    "PowAlgorithm",
    "PowError",
    "PowVerifier",
    "UnknownAlgorithmError",
    "algorithm_info",
    "algorithm_names",
    "canonical_name",
    "create_algorithm",
]
