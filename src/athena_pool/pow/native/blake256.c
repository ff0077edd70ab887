/*
 * BLAKE-256 as submitted to the third round of the SHA-3 competition (14 rounds, not BLAKE2).
 *
 * Written from the BLAKE specification (Aumasson, Henzen, Meier, Phan, version 1.3):
 *   - 32-bit words, big-endian message words, 512-bit blocks, 14 rounds of the G function;
 *   - salt fixed to zero (CryptoNight uses no salt);
 *   - padding: a 1 bit, zeros, a 1 bit, then the 64-bit big-endian message length in bits;
 *   - the counter t is the number of message bits hashed so far including the current block; a block
 *     holding no message bits at all (padding spilled into an extra block, or the message length is a
 *     multiple of 512 bits) is compressed with t = 0.
 */
#include <string.h>

#include "cn_hashes.h"

static const uint32_t blake256_iv[8] = {
    0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
    0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
};

/* The first digits of pi. */
static const uint32_t blake256_c[16] = {
    0x243F6A88u, 0x85A308D3u, 0x13198A2Eu, 0x03707344u,
    0xA4093822u, 0x299F31D0u, 0x082EFA98u, 0xEC4E6C89u,
    0x452821E6u, 0x38D01377u, 0xBE5466CFu, 0x34E90C6Cu,
    0xC0AC29B7u, 0xC97C50DDu, 0x3F84D5B5u, 0xB5470917u,
};

static const uint8_t blake256_sigma[10][16] = {
    { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15},
    {14, 10,  4,  8,  9, 15, 13,  6,  1, 12,  0,  2, 11,  7,  5,  3},
    {11,  8, 12,  0,  5,  2, 15, 13, 10, 14,  3,  6,  7,  1,  9,  4},
    { 7,  9,  3,  1, 13, 12, 11, 14,  2,  6,  5, 10,  4,  0, 15,  8},
    { 9,  0,  5,  7,  2,  4, 10, 15, 14,  1, 11, 12,  6,  8,  3, 13},
    { 2, 12,  6, 10,  0, 11,  8,  3,  4, 13,  7,  5, 15, 14,  1,  9},
    {12,  5,  1, 15, 14, 13,  4, 10,  0,  7,  6,  3,  9,  2,  8, 11},
    {13, 11,  7, 14, 12,  1,  3,  9,  5,  0, 15,  4,  8,  6,  2, 10},
    { 6, 15, 14,  9, 11,  3,  0,  8, 12,  2, 13,  7,  1,  4, 10,  5},
    {10,  2,  8,  4,  7,  6,  1,  5, 15, 11,  9, 14,  3, 12, 13,  0},
};

static inline uint32_t blake256_rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

static inline uint32_t blake256_load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void blake256_store_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24);
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

#define BLAKE256_G(r, i, a, b, c, d)                                                         \
    do {                                                                                     \
        const uint8_t *s_ = blake256_sigma[(r) % 10];                                        \
        v[a] += v[b] + (m[s_[2 * (i)]] ^ blake256_c[s_[2 * (i) + 1]]);                      \
        v[d] = blake256_rotr(v[d] ^ v[a], 16);                                               \
        v[c] += v[d];                                                                        \
        v[b] = blake256_rotr(v[b] ^ v[c], 12);                                               \
        v[a] += v[b] + (m[s_[2 * (i) + 1]] ^ blake256_c[s_[2 * (i)]]);                       \
        v[d] = blake256_rotr(v[d] ^ v[a], 8);                                                \
        v[c] += v[d];                                                                        \
        v[b] = blake256_rotr(v[b] ^ v[c], 7);                                                \
    } while (0)

/* One compression: h <- compress(h, block, salt = 0, counter = t). */
static void blake256_compress(uint32_t h[8], const uint8_t block[64], uint64_t t)
{
    uint32_t m[16];
    uint32_t v[16];
    unsigned r;
    int i;

    for (i = 0; i < 16; i++) {
        m[i] = blake256_load_be32(block + 4 * i);
    }
    for (i = 0; i < 8; i++) {
        v[i] = h[i];
    }
    /* salt is zero: v[8..11] = s ^ c[0..3] = c[0..3] */
    v[8] = blake256_c[0];
    v[9] = blake256_c[1];
    v[10] = blake256_c[2];
    v[11] = blake256_c[3];
    v[12] = (uint32_t)t ^ blake256_c[4];
    v[13] = (uint32_t)t ^ blake256_c[5];
    v[14] = (uint32_t)(t >> 32) ^ blake256_c[6];
    v[15] = (uint32_t)(t >> 32) ^ blake256_c[7];

    for (r = 0; r < 14; r++) {
        /* columns */
        BLAKE256_G(r, 0, 0, 4, 8, 12);
        BLAKE256_G(r, 1, 1, 5, 9, 13);
        BLAKE256_G(r, 2, 2, 6, 10, 14);
        BLAKE256_G(r, 3, 3, 7, 11, 15);
        /* diagonals */
        BLAKE256_G(r, 4, 0, 5, 10, 15);
        BLAKE256_G(r, 5, 1, 6, 11, 12);
        BLAKE256_G(r, 6, 2, 7, 8, 13);
        BLAKE256_G(r, 7, 3, 4, 9, 14);
    }

    /* finalization with zero salt: h_i ^= v_i ^ v_{i+8} */
    for (i = 0; i < 8; i++) {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

#undef BLAKE256_G

void cn_blake256(const uint8_t *data, size_t len, uint8_t out[32])
{
    uint32_t h[8];
    uint8_t block[64];
    uint64_t bits_done = 0;
    const uint64_t total_bits = (uint64_t)len << 3;
    size_t rem;
    int i;

    for (i = 0; i < 8; i++) {
        h[i] = blake256_iv[i];
    }

    /* Every full block except when it is the last data: a message whose length is a multiple of 64
     * bytes still gets its full blocks compressed here; the padding then goes in a block of its own
     * with counter 0. */
    while (len >= 64) {
        bits_done += 512;
        blake256_compress(h, data, bits_done);
        data += 64;
        len -= 64;
    }

    rem = len; /* 0..63 message bytes left */
    memset(block, 0, sizeof block);
    if (rem > 0) {
        memcpy(block, data, rem);
    }
    block[rem] = 0x80;

    if (rem <= 55) {
        /* Padding and length fit in this block. The counter covers the message bits in it, or is 0 when
         * the block holds no message bits (rem == 0). */
        block[55] |= 0x01;
        for (i = 0; i < 8; i++) {
            block[56 + i] = (uint8_t)(total_bits >> (56 - 8 * i));
        }
        blake256_compress(h, block, rem > 0 ? total_bits : 0);
    } else {
        /* 56..63 bytes: the 0x80 goes here, the closing 1 bit and the length spill into an extra block,
         * which holds no message bits and is compressed with counter 0. */
        blake256_compress(h, block, total_bits);
        memset(block, 0, sizeof block);
        block[55] = 0x01;
        for (i = 0; i < 8; i++) {
            block[56 + i] = (uint8_t)(total_bits >> (56 - 8 * i));
        }
        blake256_compress(h, block, 0);
    }

    for (i = 0; i < 8; i++) {
        blake256_store_be32(out + 4 * i, h[i]);
    }
}
