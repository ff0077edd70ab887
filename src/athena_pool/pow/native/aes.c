/*
 * AES pieces of CryptoNight (athena_pool.pow._cryptonight), written from FIPS-197.
 *
 * - The S-box is computed at initialisation from its definition (multiplicative inverse in GF(2^8)
 *   modulo x^8 + x^4 + x^3 + x + 1, then the affine map with constant 0x63), and the four 32-bit round
 *   tables from it (MixColumns matrix rows 02 03 01 01, rotated).
 * - The key schedule is the AES-256 one (Nk = 8), stopped after the 40 words CryptoNight uses.
 * - The round is SubBytes, ShiftRows, MixColumns, AddRoundKey: AESENC on x86 CPUs with AES-NI, the
 *   table version otherwise. The choice is made once (pthread_once) and can be forced to the portable
 *   version with ATHENA_POOL_NO_AESNI=1 in the environment.
 */
#include "aes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

uint32_t cn_aes_t[4][256];
static uint8_t aes_sbox[256];
static int aes_use_ni;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

/* Multiplication in GF(2^8) with the AES polynomial 0x11b. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    while (b) {
        if (b & 1) {
            r ^= a;
        }
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0x00));
        b >>= 1;
    }
    return r;
}

static uint8_t rotl8(uint8_t x, unsigned n)
{
    return (uint8_t)((x << n) | (x >> (8 - n)));
}

static uint32_t rotl32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void aes_build_tables(void)
{
    for (unsigned x = 0; x < 256; x++) {
        uint8_t inv = 0; /* 0 maps to 0 */
        if (x != 0) {
            for (unsigned y = 1; y < 256; y++) {
                if (gf_mul((uint8_t)x, (uint8_t)y) == 1) {
                    inv = (uint8_t)y;
                    break;
                }
            }
        }
        aes_sbox[x] = (uint8_t)(inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63);
    }
    for (unsigned x = 0; x < 256; x++) {
        const uint8_t s = aes_sbox[x];
        /* Column produced by a byte in row 0: rows 0..3 get 02*s, 01*s, 01*s, 03*s. */
        const uint32_t t0 = (uint32_t)gf_mul(s, 2) | ((uint32_t)s << 8) | ((uint32_t)s << 16) |
                            ((uint32_t)gf_mul(s, 3) << 24);
        cn_aes_t[0][x] = t0;
        cn_aes_t[1][x] = rotl32(t0, 8);
        cn_aes_t[2][x] = rotl32(t0, 16);
        cn_aes_t[3][x] = rotl32(t0, 24);
    }
}

static int aes_detect_ni(void)
{
    const char *force = getenv("ATHENA_POOL_NO_AESNI");
    if (force != NULL && force[0] != '\0' && strcmp(force, "0") != 0) {
        return 0;
    }
#if CN_HAVE_AESNI_CODE
    __builtin_cpu_init();
    return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse2");
#else
    return 0;
#endif
}

static void aes_init_once(void)
{
    aes_build_tables();
    aes_use_ni = aes_detect_ni();
}

void cn_aes_init(void)
{
    pthread_once(&aes_once, aes_init_once);
}

int cn_aes_use_ni(void)
{
    cn_aes_init();
    return aes_use_ni;
}

void cn_aes_expand_key(const uint8_t key[32], uint8_t out[CN_AES_EXPANDED_BYTES])
{
    uint8_t rcon = 0x01;

    cn_aes_init();
    memcpy(out, key, 32);
    /* Words w[8..39], 4 bytes each: w[i] = w[i - 8] ^ temp, with temp = SubWord(RotWord(w[i - 1])) ^ Rcon
     * when i % 8 == 0 and SubWord(w[i - 1]) when i % 8 == 4. */
    for (unsigned i = 8; i < 4 * CN_AES_ROUND_KEYS; i++) {
        uint8_t t[4];
        memcpy(t, out + 4 * (i - 1), 4);
        if (i % 8 == 0) {
            const uint8_t first = t[0];
            t[0] = (uint8_t)(aes_sbox[t[1]] ^ rcon);
            t[1] = aes_sbox[t[2]];
            t[2] = aes_sbox[t[3]];
            t[3] = aes_sbox[first];
            rcon = gf_mul(rcon, 2);
        } else if (i % 8 == 4) {
            for (int k = 0; k < 4; k++) {
                t[k] = aes_sbox[t[k]];
            }
        }
        for (int k = 0; k < 4; k++) {
            out[4 * i + k] = (uint8_t)(out[4 * (i - 8) + k] ^ t[k]);
        }
    }
}

/* Portable scratchpad passes ---------------------------------------------------------------------- */

static inline uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void store32_le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void load_words(const uint8_t *src, uint32_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = load32_le(src + 4 * i);
    }
}

static inline void ten_rounds_portable(uint32_t blk[4], const uint32_t rk[4 * CN_AES_ROUND_KEYS])
{
    for (int r = 0; r < CN_AES_ROUND_KEYS; r++) {
        cn_aes_round_portable(blk, blk, rk + 4 * r);
    }
}

void cn_aes_fill_portable(uint8_t *pad, size_t memory, uint8_t text[128],
                          const uint8_t keys[CN_AES_EXPANDED_BYTES])
{
    uint32_t rk[4 * CN_AES_ROUND_KEYS];
    uint32_t t[32];

    load_words(keys, rk, 4 * CN_AES_ROUND_KEYS);
    load_words(text, t, 32);
    for (size_t off = 0; off < memory; off += 128) {
        for (int b = 0; b < 8; b++) {
            ten_rounds_portable(t + 4 * b, rk);
        }
        for (int i = 0; i < 32; i++) {
            store32_le(pad + off + 4 * i, t[i]);
        }
    }
    for (int i = 0; i < 32; i++) {
        store32_le(text + 4 * i, t[i]);
    }
}

void cn_aes_absorb_portable(const uint8_t *pad, size_t memory, uint8_t text[128],
                            const uint8_t keys[CN_AES_EXPANDED_BYTES])
{
    uint32_t rk[4 * CN_AES_ROUND_KEYS];
    uint32_t t[32];

    load_words(keys, rk, 4 * CN_AES_ROUND_KEYS);
    load_words(text, t, 32);
    for (size_t off = 0; off < memory; off += 128) {
        for (int i = 0; i < 32; i++) {
            t[i] ^= load32_le(pad + off + 4 * i);
        }
        for (int b = 0; b < 8; b++) {
            ten_rounds_portable(t + 4 * b, rk);
        }
    }
    for (int i = 0; i < 32; i++) {
        store32_le(text + 4 * i, t[i]);
    }
}

/* AES-NI scratchpad passes: eight independent blocks per 128-byte chunk keep the AES unit busy. ----- */

#if CN_HAVE_AESNI_CODE

#define CN_AESNI_TARGET __attribute__((target("aes,sse2")))

#define AES8(k)                                                                                        \
    do {                                                                                               \
        x0 = _mm_aesenc_si128(x0, k);                                                                  \
        x1 = _mm_aesenc_si128(x1, k);                                                                  \
        x2 = _mm_aesenc_si128(x2, k);                                                                  \
        x3 = _mm_aesenc_si128(x3, k);                                                                  \
        x4 = _mm_aesenc_si128(x4, k);                                                                  \
        x5 = _mm_aesenc_si128(x5, k);                                                                  \
        x6 = _mm_aesenc_si128(x6, k);                                                                  \
        x7 = _mm_aesenc_si128(x7, k);                                                                  \
    } while (0)

#define AES8_TEN_ROUNDS()                                                                              \
    do {                                                                                               \
        AES8(k0);                                                                                      \
        AES8(k1);                                                                                      \
        AES8(k2);                                                                                      \
        AES8(k3);                                                                                      \
        AES8(k4);                                                                                      \
        AES8(k5);                                                                                      \
        AES8(k6);                                                                                      \
        AES8(k7);                                                                                      \
        AES8(k8);                                                                                      \
        AES8(k9);                                                                                      \
    } while (0)

#define LOAD_KEYS_AND_TEXT()                                                                           \
    const __m128i *kp = (const __m128i *)keys;                                                         \
    const __m128i k0 = _mm_loadu_si128(kp + 0), k1 = _mm_loadu_si128(kp + 1);                          \
    const __m128i k2 = _mm_loadu_si128(kp + 2), k3 = _mm_loadu_si128(kp + 3);                          \
    const __m128i k4 = _mm_loadu_si128(kp + 4), k5 = _mm_loadu_si128(kp + 5);                          \
    const __m128i k6 = _mm_loadu_si128(kp + 6), k7 = _mm_loadu_si128(kp + 7);                          \
    const __m128i k8 = _mm_loadu_si128(kp + 8), k9 = _mm_loadu_si128(kp + 9);                          \
    __m128i *tp = (__m128i *)text;                                                                     \
    __m128i x0 = _mm_loadu_si128(tp + 0), x1 = _mm_loadu_si128(tp + 1);                                \
    __m128i x2 = _mm_loadu_si128(tp + 2), x3 = _mm_loadu_si128(tp + 3);                                \
    __m128i x4 = _mm_loadu_si128(tp + 4), x5 = _mm_loadu_si128(tp + 5);                                \
    __m128i x6 = _mm_loadu_si128(tp + 6), x7 = _mm_loadu_si128(tp + 7)

#define STORE_TEXT()                                                                                   \
    do {                                                                                               \
        _mm_storeu_si128(tp + 0, x0);                                                                  \
        _mm_storeu_si128(tp + 1, x1);                                                                  \
        _mm_storeu_si128(tp + 2, x2);                                                                  \
        _mm_storeu_si128(tp + 3, x3);                                                                  \
        _mm_storeu_si128(tp + 4, x4);                                                                  \
        _mm_storeu_si128(tp + 5, x5);                                                                  \
        _mm_storeu_si128(tp + 6, x6);                                                                  \
        _mm_storeu_si128(tp + 7, x7);                                                                  \
    } while (0)

CN_AESNI_TARGET
void cn_aes_fill_ni(uint8_t *pad, size_t memory, uint8_t text[128],
                    const uint8_t keys[CN_AES_EXPANDED_BYTES])
{
    LOAD_KEYS_AND_TEXT();
    for (size_t off = 0; off < memory; off += 128) {
        __m128i *dst = (__m128i *)(pad + off);
        AES8_TEN_ROUNDS();
        _mm_store_si128(dst + 0, x0);
        _mm_store_si128(dst + 1, x1);
        _mm_store_si128(dst + 2, x2);
        _mm_store_si128(dst + 3, x3);
        _mm_store_si128(dst + 4, x4);
        _mm_store_si128(dst + 5, x5);
        _mm_store_si128(dst + 6, x6);
        _mm_store_si128(dst + 7, x7);
    }
    STORE_TEXT();
}

CN_AESNI_TARGET
void cn_aes_absorb_ni(const uint8_t *pad, size_t memory, uint8_t text[128],
                      const uint8_t keys[CN_AES_EXPANDED_BYTES])
{
    LOAD_KEYS_AND_TEXT();
    for (size_t off = 0; off < memory; off += 128) {
        const __m128i *src = (const __m128i *)(pad + off);
        x0 = _mm_xor_si128(x0, _mm_load_si128(src + 0));
        x1 = _mm_xor_si128(x1, _mm_load_si128(src + 1));
        x2 = _mm_xor_si128(x2, _mm_load_si128(src + 2));
        x3 = _mm_xor_si128(x3, _mm_load_si128(src + 3));
        x4 = _mm_xor_si128(x4, _mm_load_si128(src + 4));
        x5 = _mm_xor_si128(x5, _mm_load_si128(src + 5));
        x6 = _mm_xor_si128(x6, _mm_load_si128(src + 6));
        x7 = _mm_xor_si128(x7, _mm_load_si128(src + 7));
        AES8_TEN_ROUNDS();
    }
    STORE_TEXT();
}

#endif /* CN_HAVE_AESNI_CODE */
