/*
 * Contract between the parts of the CryptoNight extension (athena_pool.pow._cryptonight).
 *
 * Every function here is pure: no global state, no allocation unless stated, safe to call from many
 * threads at once with the GIL released.
 */
#ifndef ATHENA_CN_HASHES_H
#define ATHENA_CN_HASHES_H

#include <stddef.h>
#include <stdint.h>

/* Keccak (keccak.c) ---------------------------------------------------------------------------- */

/* The Keccak-f[1600] permutation, 24 rounds, on a state of 25 little-endian lanes. */
void cn_keccakf(uint64_t state[25]);

/* Keccak with rate 136 and the original padding (0x01 ... 0x80); writes the whole 200-byte state
 * after absorbing `data`. CryptoNight starts from this state. */
void cn_keccak1600(const uint8_t *data, size_t len, uint8_t state_out[200]);

/* cn_fast_hash: the first 32 bytes of cn_keccak1600 (Keccak-256, not SHA3-256). */
void cn_fast_hash(const uint8_t *data, size_t len, uint8_t out[32]);

/* Final hashes (blake256.c, groestl256.c, jh256.c, skein512_256.c) ------------------------------ */
/* CryptoNight calls them on the 200-byte Keccak state; they accept any byte length. */

void cn_blake256(const uint8_t *data, size_t len, uint8_t out[32]);      /* SHA-3 round-3 BLAKE-256, 14 rounds */
void cn_groestl256(const uint8_t *data, size_t len, uint8_t out[32]);    /* Groestl-256 (final round-3 version) */
void cn_jh256(const uint8_t *data, size_t len, uint8_t out[32]);         /* JH-256 (round-3, 42 rounds) */
void cn_skein512_256(const uint8_t *data, size_t len, uint8_t out[32]);  /* Skein-512 with 256-bit output */

/* CryptoNight (cryptonight.c) ------------------------------------------------------------------ */

typedef struct {
    size_t memory;        /* scratchpad bytes: 2 MiB, 1 MiB or 256 KiB */
    uint32_t iterations;  /* Monero's ITER: 2^20, 2^19 or 2^17; the main loop runs iterations / 2 times */
    uint32_t mask;        /* scratchpad address mask: 0x1FFFF0, 0xFFFF0 or 0x1FFF0 */
    int variant;          /* 0, 1 or 2 (4 = cn/r when implemented) */
} cn_params;

/* Returns 0 on success, -1 when the input is too short for the variant (< 43 bytes for 1 and 2) or the
 * parameters are invalid. `scratchpad` is caller-owned, at least params->memory bytes, 16-byte aligned.
 * `height` is used only by cn/r. */
int cn_slow_hash(const uint8_t *data, size_t len, uint8_t out[32], const cn_params *params,
                 uint64_t height, uint8_t *scratchpad);

#endif
