/*
 * Internal header: the AES pieces CryptoNight needs (aes.c), shared with cryptonight.c.
 *
 * CryptoNight (CNS008) uses AES only as a mixing function:
 *   - the AES-256 key schedule of FIPS-197, of which only the first 10 round keys (160 bytes) are used;
 *   - the plain AES round: SubBytes, ShiftRows, MixColumns, then XOR with a round key (what the x86
 *     AESENC instruction does). There is no initial AddRoundKey and no special last round.
 *
 * Two implementations: AES-NI (x86, chosen at run time) and a portable 32-bit table version.
 */
#ifndef ATHENA_CN_AES_H
#define ATHENA_CN_AES_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define CN_HAVE_AESNI_CODE 1
#include <emmintrin.h>
#include <wmmintrin.h>
#else
#define CN_HAVE_AESNI_CODE 0
#endif

#define CN_AES_ROUND_KEYS 10
#define CN_AES_EXPANDED_BYTES (16 * CN_AES_ROUND_KEYS)

/* Builds the tables and makes the AES-NI / portable choice exactly once (thread-safe; cheap to call
 * again). Every other function here needs it to have run; cn_slow_hash calls it itself. */
void cn_aes_init(void);

/* 1 when the AES-NI path is in use: the CPU has AES-NI and ATHENA_POOL_NO_AESNI is not set (to
 * anything but "" or "0") in the environment at initialisation time. Calls cn_aes_init(). */
int cn_aes_use_ni(void);

/* FIPS-197 AES-256 key expansion of a 32-byte key, truncated to the first 10 round keys. Round key i is
 * bytes [16 i, 16 i + 16) of `out`. */
void cn_aes_expand_key(const uint8_t key[32], uint8_t out[CN_AES_EXPANDED_BYTES]);

/* Portable AES round tables: T[r][x] is the MixColumns column contributed by S-box output S[x] sitting in
 * row r, packed as a little-endian 32-bit word (row 0 in the low byte). Filled by cn_aes_init(). */
extern uint32_t cn_aes_t[4][256];

/* One portable AES round on a block held as four little-endian 32-bit columns. `in` and `out` may
 * alias. */
static inline void cn_aes_round_portable(const uint32_t in[4], uint32_t out[4], const uint32_t key[4])
{
    /* ShiftRows: row r of output column c comes from input column c + r. */
    const uint32_t c0 = cn_aes_t[0][in[0] & 0xff] ^ cn_aes_t[1][(in[1] >> 8) & 0xff] ^
                        cn_aes_t[2][(in[2] >> 16) & 0xff] ^ cn_aes_t[3][in[3] >> 24] ^ key[0];
    const uint32_t c1 = cn_aes_t[0][in[1] & 0xff] ^ cn_aes_t[1][(in[2] >> 8) & 0xff] ^
                        cn_aes_t[2][(in[3] >> 16) & 0xff] ^ cn_aes_t[3][in[0] >> 24] ^ key[1];
    const uint32_t c2 = cn_aes_t[0][in[2] & 0xff] ^ cn_aes_t[1][(in[3] >> 8) & 0xff] ^
                        cn_aes_t[2][(in[0] >> 16) & 0xff] ^ cn_aes_t[3][in[1] >> 24] ^ key[2];
    const uint32_t c3 = cn_aes_t[0][in[3] & 0xff] ^ cn_aes_t[1][(in[0] >> 8) & 0xff] ^
                        cn_aes_t[2][(in[1] >> 16) & 0xff] ^ cn_aes_t[3][in[2] >> 24] ^ key[3];
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* One AES round on a 16-byte block given as two little-endian 64-bit halves (the layout the CryptoNight
 * main loop keeps its registers in), keyed by (k_lo, k_hi). */
static inline void cn_aes_round_portable64(uint64_t blk[2], uint64_t k_lo, uint64_t k_hi)
{
    uint32_t in[4] = {(uint32_t)blk[0], (uint32_t)(blk[0] >> 32), (uint32_t)blk[1],
                      (uint32_t)(blk[1] >> 32)};
    const uint32_t key[4] = {(uint32_t)k_lo, (uint32_t)(k_lo >> 32), (uint32_t)k_hi,
                             (uint32_t)(k_hi >> 32)};
    cn_aes_round_portable(in, in, key);
    blk[0] = (uint64_t)in[0] | ((uint64_t)in[1] << 32);
    blk[1] = (uint64_t)in[2] | ((uint64_t)in[3] << 32);
}

/* Scratchpad helpers (aes.c), both directions of CNS008 section 4 and 6:
 *   fill:   for each 128-byte chunk, text = 10 rounds of each of its 8 blocks; chunk = text;
 *   absorb: for each 128-byte chunk, text ^= chunk; text = 10 rounds of each block.
 * `text` is the 128-byte block of the Keccak state (bytes 64..191), updated in place; `memory` is a
 * multiple of 128 and `pad` is 16-byte aligned. */
void cn_aes_fill_portable(uint8_t *pad, size_t memory, uint8_t text[128],
                          const uint8_t keys[CN_AES_EXPANDED_BYTES]);
void cn_aes_absorb_portable(const uint8_t *pad, size_t memory, uint8_t text[128],
                            const uint8_t keys[CN_AES_EXPANDED_BYTES]);
#if CN_HAVE_AESNI_CODE
void cn_aes_fill_ni(uint8_t *pad, size_t memory, uint8_t text[128],
                    const uint8_t keys[CN_AES_EXPANDED_BYTES]);
void cn_aes_absorb_ni(const uint8_t *pad, size_t memory, uint8_t text[128],
                      const uint8_t keys[CN_AES_EXPANDED_BYTES]);
#endif

#endif
