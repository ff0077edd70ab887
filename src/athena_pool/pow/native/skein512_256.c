/*
 * Skein-512-256: Skein with a 512-bit internal state and a 256-bit digest, version 1.3 of the SHA-3
 * round-3 specification (Ferguson, Lucks, Schneier, Whiting, Bellare, Kohno, Callas, Walker).
 *
 * Written from the specification:
 *   - Threefish-512: eight 64-bit little-endian words, 72 rounds of four MIX operations
 *     (y0 = x0 + x1, y1 = (x1 <<< R[d mod 8][j]) xor y0, with the v1.3 rotation constants) followed by
 *     the word permutation pi = (2, 1, 4, 7, 6, 5, 0, 3); a subkey is added before every fourth round
 *     and after the last one (19 subkeys). The key schedule extends the key with
 *     k8 = C240 xor k0 xor ... xor k7 and the tweak with t2 = t0 xor t1.
 *   - UBI chaining: the message is cut into 64-byte blocks, the last one zero-padded (an empty message
 *     is one zero block); every block is encrypted with the chaining value as key and a tweak holding
 *     the number of message bytes processed so far including this block (bits 0..95), the block type
 *     (bits 120..125), "first" (bit 126) and "final" (bit 127); the block is xored into the output.
 *   - Simple hashing: G0 = UBI(0, config, Cfg), G1 = UBI(G0, message, Msg), digest = the first 32
 *     bytes of UBI(G1, 8 zero bytes, Out). The config block is "SHA3", version 1, the output length
 *     256 in bits, tree parameters zero.
 */
#include <string.h>

#include "cn_hashes.h"

#define SKEIN_C240 0x1BD11BDAA9FC1A22u

#define SKEIN_TYPE_CFG 4u
#define SKEIN_TYPE_MSG 48u
#define SKEIN_TYPE_OUT 63u

#define SKEIN_FLAG_FIRST ((uint64_t)1 << 62)
#define SKEIN_FLAG_FINAL ((uint64_t)1 << 63)

/* Rotation constants R[d mod 8][j] for Threefish-512 (Skein v1.3). */
static const unsigned skein_rot[8][4] = {
    {46, 36, 19, 37},
    {33, 27, 14, 42},
    {17, 49, 36, 39},
    {44,  9, 54, 56},
    {39, 30, 34, 24},
    {13, 50, 10, 17},
    {25, 29, 39, 43},
    { 8, 35, 56, 22},
};

/* The word permutation pi = (2, 1, 4, 7, 6, 5, 0, 3) (v'[i] = v[pi[i]]) has order 4, so it is not
 * applied to the data: round d mod 4 == 0, 1, 2, 3 mixes the pairs of the original words selected by
 * pi^0, pi^1, pi^2, pi^3, and after four rounds the words are back in place:
 *   pi^0: (0,1) (2,3) (4,5) (6,7)      pi^1: (2,1) (4,7) (6,5) (0,3)
 *   pi^2: (4,1) (6,3) (0,5) (2,7)      pi^3: (6,1) (0,7) (2,5) (4,3) */
static const unsigned skein_pairs[4][8] = {
    {0, 1, 2, 3, 4, 5, 6, 7},
    {2, 1, 4, 7, 6, 5, 0, 3},
    {4, 1, 6, 3, 0, 5, 2, 7},
    {6, 1, 0, 7, 2, 5, 4, 3},
};

static uint64_t skein_load64(const uint8_t *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
           ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) |
           ((uint64_t)p[7] << 56);
}

static void skein_store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline uint64_t skein_rotl(uint64_t x, unsigned n)
{
    return (x << n) | (x >> (64 - n)); /* n is never 0 */
}

/* Subkey s: k[(s + i) mod 9] for word i, plus t[s mod 3] on word 5, t[(s + 1) mod 3] on word 6 and s on
 * word 7. */
static inline void skein_add_subkey(uint64_t v[8], const uint64_t k[9], const uint64_t t[3], unsigned s)
{
    for (unsigned i = 0; i < 8; i++) {
        v[i] += k[(s + i) % 9];
    }
    v[5] += t[s % 3];
    v[6] += t[(s + 1) % 3];
    v[7] += s;
}

/* Threefish-512 encryption of `in` under `key` and tweak (t0, t1), xored with `in` (UBI feed-forward);
 * the result replaces `key`. */
static void skein_ubi_block(uint64_t key[8], const uint64_t in[8], uint64_t t0, uint64_t t1)
{
    uint64_t k[9], t[3], v[8];

    k[8] = SKEIN_C240;
    for (int i = 0; i < 8; i++) {
        k[i] = key[i];
        k[8] ^= key[i];
    }
    t[0] = t0;
    t[1] = t1;
    t[2] = t0 ^ t1;

    for (int i = 0; i < 8; i++) {
        v[i] = in[i];
    }

    for (unsigned s = 0; s < 18; s++) {
        skein_add_subkey(v, k, t, s);
        /* Four rounds d = 4s .. 4s+3; the rotation row is d mod 8. */
        for (unsigned q = 0; q < 4; q++) {
            const unsigned *r = skein_rot[4 * (s % 2) + q];
            const unsigned *pr = skein_pairs[q];
            for (unsigned j = 0; j < 4; j++) {
                uint64_t *x0 = &v[pr[2 * j]], *x1 = &v[pr[2 * j + 1]];
                *x0 += *x1;
                *x1 = skein_rotl(*x1, r[j]) ^ *x0;
            }
        }
    }
    skein_add_subkey(v, k, t, 18);

    for (int i = 0; i < 8; i++) {
        key[i] = v[i] ^ in[i];
    }
}

/* UBI(G, M, type): `g` is the chaining value, updated in place. */
static void skein_ubi(uint64_t g[8], const uint8_t *msg, size_t len, unsigned type)
{
    uint64_t words[8];
    uint64_t flags = SKEIN_FLAG_FIRST;
    uint64_t type_bits = (uint64_t)type << 56;
    size_t pos = 0;

    /* All blocks but the last one (the last is the final block even if it is full). */
    while (len - pos > 64) {
        for (int i = 0; i < 8; i++) {
            words[i] = skein_load64(msg + pos + 8 * i);
        }
        pos += 64;
        skein_ubi_block(g, words, (uint64_t)pos, type_bits | flags);
        flags = 0;
    }

    uint8_t last[64];
    size_t rest = len - pos;
    memset(last, 0, sizeof last);
    if (rest > 0) {
        memcpy(last, msg + pos, rest);
    }
    for (int i = 0; i < 8; i++) {
        words[i] = skein_load64(last + 8 * i);
    }
    /* The position field is 96 bits; a size_t byte count fits in its low 64 bits. */
    skein_ubi_block(g, words, (uint64_t)len, type_bits | flags | SKEIN_FLAG_FINAL);
}

void cn_skein512_256(const uint8_t *data, size_t len, uint8_t out[32])
{
    uint64_t g[8] = {0};

    /* Config block: schema "SHA3", version 1, output length 256 bits, no tree hashing. */
    uint8_t cfg[32];
    memset(cfg, 0, sizeof cfg);
    cfg[0] = 'S';
    cfg[1] = 'H';
    cfg[2] = 'A';
    cfg[3] = '3';
    cfg[4] = 1;
    skein_store64(cfg + 8, 256);
    skein_ubi(g, cfg, sizeof cfg, SKEIN_TYPE_CFG);

    skein_ubi(g, data, len, SKEIN_TYPE_MSG);

    /* Output transform: UBI over the 8-byte counter 0. */
    uint8_t counter[8] = {0};
    skein_ubi(g, counter, sizeof counter, SKEIN_TYPE_OUT);

    for (int i = 0; i < 4; i++) {
        skein_store64(out + 8 * i, g[i]);
    }
}
