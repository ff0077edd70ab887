/*
 * CryptoNight slow hash (athena_pool.pow._cryptonight), variants 0, 1, 2 and 4 (cn/r, when cn_r.c is
 * linked in), with the scratchpad size, iteration count and address mask as run-time parameters (cn,
 * cn-lite, cn-pico).
 *
 * Written from the CryptoNote standard CNS008 (CryptoNight), the Monero variant 1 tweak description
 * (cryptonight-variant-1: the table tweak of byte 11 and the XOR of input bytes 35..42) and the variant 2
 * description (shuffle of the other three 16-byte chunks of the cache line, integer division and square
 * root in the loop, XOR of the multiplication result with neighbour chunks).
 *
 * Variant 4 (cn/r, CryptonightR) follows the recipe in cn_r.h: the variant 2 loop without its integer math
 * and without the XOR of the product into the neighbour chunks, plus the random-math program of the block
 * height and the XOR of the three neighbour chunks into c at each shuffle.
 *
 * Layout of the 200-byte Keccak state `st` (64-bit words w[0..24], little-endian):
 *   bytes   0..31   AES key of the scratchpad fill; w[0..3] ^ w[4..7] give the loop registers a and b;
 *   bytes  32..63   AES key of the final pass;
 *   bytes  64..191  the 128-byte "text" encrypted into / out of the scratchpad;
 *   variant 1:      tweak = input bytes 35..42 ^ w[24];
 *   variant 2:      second b register = w[8..9] ^ w[10..11], division and sqrt seeds = w[12], w[13].
 */
#include <string.h>

#include "aes.h"
#include "cn_hashes.h"
#include "cn_r.h"

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cryptonight.c keeps the state and scratchpad as native 64-bit words: little-endian CPUs only"
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CN_MIN_MEMORY ((size_t)64 * 1024)
#define CN_MAX_MEMORY ((size_t)2 * 1024 * 1024)
#define CN_TWEAK_INPUT_BYTES 43 /* variants 1 and 2 read input bytes 35..42 */

#define CN_ALWAYS_INLINE inline __attribute__((always_inline))

/* An empty asm that makes the compiler hold `x` in a general-purpose register at this point. Used on the
 * loop's 64-bit halves so that GCC's SLP vectoriser does not pack (hi, lo) and (a.lo, a.hi) into XMM
 * registers through the stack, which puts a store-forwarding stall on the loop's critical path. */
#define CN_IN_GPR(x) __asm__("" : "+r"(x))

typedef union {
    uint8_t b[200];
    uint64_t w[25];
} cn_state;

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Variant 1: the byte at offset 11 of the block written in the first half-step (bits 24..31 of the high
 * word) is XORed with 0x00/0x10/0x20/0x30, picked by four of its own bits through the table 0x75310. */
static CN_ALWAYS_INLINE uint64_t v1_tweak_hi(uint64_t hi)
{
    const uint32_t tmp = (uint32_t)(hi >> 24) & 0xff;
    const uint32_t index = (((tmp >> 3) & 6) | (tmp & 1)) << 1;
    return hi ^ ((uint64_t)((0x75310u >> index) & 0x30) << 24);
}

/* Variant 2 square root: r = floor(2 * sqrt(2^64 + n) - 2^33), exactly.
 *
 * Estimate without int/double conversions (their unsigned forms branch on the top bit): the double with
 * exponent 0 and mantissa n >> 12 is 1 + n / 2^64 (rounded down); its square root lies in [1, sqrt 2) and
 * has mantissa bits m ~ 2^52 (sqrt(1 + n / 2^64) - 1), so m >> 19 ~ 2^33 (sqrt(1 + n / 2^64) - 1), which
 * is the wanted value. Rounding leaves the estimate within one of the floor; the fixup then compares
 * (r + 2^33)^2 with 4 (2^64 + n) in 128-bit integers, the exact definition of the floor
 * (r + 2^33 <= 2 sqrt(2^64 + n) < r + 2^33 + 1). */
static CN_ALWAYS_INLINE uint64_t v2_sqrt(uint64_t n)
{
    const uint64_t one_bits = (uint64_t)1023 << 52; /* IEEE-754 binary64 1.0 */
    const uint64_t x_bits = (n >> 12) + one_bits;
    double x, s;
    uint64_t s_bits;
    memcpy(&x, &x_bits, sizeof(x));
#if defined(__SSE2__)
    s = _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(x))); /* no errno path */
#else
    s = __builtin_sqrt(x);
#endif
    memcpy(&s_bits, &s, sizeof(s_bits));
    uint64_t r = (s_bits - one_bits) >> 19;

    const unsigned __int128 lim = ((unsigned __int128)1 << 66) + ((unsigned __int128)n << 2);
    const unsigned __int128 t = (unsigned __int128)r + ((uint64_t)1 << 33);
    if (t * t > lim) {
        r -= 1;
    } else if ((t + 1) * (t + 1) <= lim) {
        r += 1;
    }
    return r;
}

/* Variant 2 integer math of the second half-step: `c` is the AES output of this iteration, `b_lo` the
 * low word of the block just read (it is modified, and the modified value is used afterwards both in the
 * multiplication and in a ^= b). */
static CN_ALWAYS_INLINE void v2_integer_math(uint64_t *b_lo, uint64_t c_lo, uint64_t c_hi, uint64_t *div,
                                             uint64_t *sqr)
{
    *b_lo ^= *div ^ (*sqr << 32);
    const uint32_t divisor = ((uint32_t)c_lo + (uint32_t)(*sqr << 1)) | 0x80000001u;
    *div = (uint64_t)(uint32_t)(c_hi / divisor) + ((c_hi % divisor) << 32);
    *sqr = v2_sqrt(c_lo + *div);
}

/* Variant 2 shuffle of the 64-byte line holding offset j (portable form: 64-bit lane additions):
 *   [j^0x10] = old [j^0x30] + b1;  [j^0x20] = old [j^0x10] + b0;  [j^0x30] = old [j^0x20] + a.
 * Variant 4 also XORs the three old chunks into c (pass c = NULL otherwise). */
static CN_ALWAYS_INLINE void v2_shuffle_portable(uint8_t *sp, uint64_t j, const uint64_t a[2],
                                                 const uint64_t b0[2], const uint64_t b1[2], uint64_t *c)
{
    uint64_t *c1 = (uint64_t *)(sp + (j ^ 0x10));
    uint64_t *c2 = (uint64_t *)(sp + (j ^ 0x20));
    uint64_t *c3 = (uint64_t *)(sp + (j ^ 0x30));
    const uint64_t x1[2] = {c1[0], c1[1]};
    const uint64_t x2[2] = {c2[0], c2[1]};
    const uint64_t x3[2] = {c3[0], c3[1]};
    c1[0] = x3[0] + b1[0];
    c1[1] = x3[1] + b1[1];
    c2[0] = x1[0] + b0[0];
    c2[1] = x1[1] + b0[1];
    c3[0] = x2[0] + a[0];
    c3[1] = x2[1] + a[1];
    if (c != NULL) {
        c[0] ^= x1[0] ^ x2[0] ^ x3[0];
        c[1] ^= x1[1] ^ x2[1] ^ x3[1];
    }
}

/*
 * The main loop, portable version. One iteration is two half-steps:
 *   1. j = a & mask; c = AESround(pad[j], key a); pad[j] = b ^ c (variant 1: tweak byte 11);
 *   2. k = c & mask; d = pad[k]; (hi, lo) = c.lo * d.lo; a += (hi, lo); pad[k] = a (variant 1: high word
 *      ^ tweak); a ^= d; b = c.
 * Variant 2 adds the shuffle after each AES / multiplication, the integer math before the
 * multiplication and the XOR of (hi, lo) with the neighbour chunks. Variant 4 (cn_r.h) replaces the
 * integer math by the random program and drops the XOR of (hi, lo).
 */
static CN_ALWAYS_INLINE void cn_loop_portable(uint8_t *sp, const cn_state *st, uint32_t half_iters,
                                              uint64_t mask, uint64_t tweak, const cn_r_program *prog,
                                              const int variant)
{
    uint64_t a[2] = {st->w[0] ^ st->w[4], st->w[1] ^ st->w[5]};
    uint64_t b0[2] = {st->w[2] ^ st->w[6], st->w[3] ^ st->w[7]};
    uint64_t b1[2] = {st->w[8] ^ st->w[10], st->w[9] ^ st->w[11]};
    uint64_t div = st->w[12], sqr = st->w[13];
    uint32_t r[9];

    cn_r_init_registers(r, st->w[12], st->w[13]);
    for (uint32_t i = 0; i < half_iters; i++) {
        const uint64_t j = a[0] & mask;
        uint64_t *p = (uint64_t *)(sp + j);
        uint64_t c[2] = {p[0], p[1]};
        cn_aes_round_portable64(c, a[0], a[1]);
        if (variant >= 2) {
            v2_shuffle_portable(sp, j, a, b0, b1, variant == 4 ? c : NULL);
        }
        p[0] = b0[0] ^ c[0];
        p[1] = variant == 1 ? v1_tweak_hi(b0[1] ^ c[1]) : b0[1] ^ c[1];

        const uint64_t k = c[0] & mask;
        p = (uint64_t *)(sp + k);
        uint64_t d[2] = {p[0], p[1]};
        uint64_t a_new[2] = {a[0], a[1]};
        if (variant == 2) {
            v2_integer_math(&d[0], c[0], c[1], &div, &sqr);
        } else if (variant == 4) {
            d[0] ^= cn_r_d_mix(r);
            cn_r_run(prog, r, a[0], a[1], b0[0], b1[0], b1[1]);
            a_new[0] ^= cn_r_a_lo_mix(r);
            a_new[1] ^= cn_r_a_hi_mix(r);
        }
        const unsigned __int128 prod = (unsigned __int128)c[0] * d[0];
        uint64_t hi = (uint64_t)(prod >> 64), lo = (uint64_t)prod;
        if (variant == 2) {
            uint64_t *n1 = (uint64_t *)(sp + (k ^ 0x10));
            const uint64_t *n2 = (const uint64_t *)(sp + (k ^ 0x20));
            n1[0] ^= hi;
            n1[1] ^= lo;
            hi ^= n2[0];
            lo ^= n2[1];
        }
        if (variant >= 2) {
            v2_shuffle_portable(sp, k, a, b0, b1, variant == 4 ? c : NULL); /* the old a */
        }
        a[0] = a_new[0] + hi;
        a[1] = a_new[1] + lo;
        p[0] = a[0];
        p[1] = variant == 1 ? a[1] ^ tweak : a[1];
        a[0] ^= d[0];
        a[1] ^= d[1];
        b1[0] = b0[0];
        b1[1] = b0[1];
        b0[0] = c[0];
        b0[1] = c[1];
    }
}

/* One out-of-line copy of the loop per variant: the variant tests vanish, and each copy gets its own
 * register allocation (with all three in one function GCC spilled the 128-bit product to the stack). */
#define CN_LOOP_INSTANCE(name, attrs, body, v)                                                         \
    static attrs __attribute__((noinline)) void name(uint8_t *sp, const cn_state *st, uint32_t half_iters, \
                                                     uint64_t mask, uint64_t tweak,                    \
                                                     const cn_r_program *prog)                         \
    {                                                                                                  \
        body(sp, st, half_iters, mask, tweak, prog, v);                                                \
    }

CN_LOOP_INSTANCE(cn_loop_portable_v0, , cn_loop_portable, 0)
CN_LOOP_INSTANCE(cn_loop_portable_v1, , cn_loop_portable, 1)
CN_LOOP_INSTANCE(cn_loop_portable_v2, , cn_loop_portable, 2)
CN_LOOP_INSTANCE(cn_loop_portable_v4, , cn_loop_portable, 4)

static void cn_core_portable(cn_state *st, uint8_t *sp, const cn_params *pr, uint64_t tweak,
                             const cn_r_program *prog)
{
    uint8_t keys[CN_AES_EXPANDED_BYTES];
    uint8_t text[128];
    const uint32_t half = pr->iterations / 2;
    const uint64_t mask = pr->mask;

    memcpy(text, st->b + 64, sizeof(text));
    cn_aes_expand_key(st->b, keys);
    cn_aes_fill_portable(sp, pr->memory, text, keys);

    switch (pr->variant) {
    case 0:
        cn_loop_portable_v0(sp, st, half, mask, tweak, prog);
        break;
    case 1:
        cn_loop_portable_v1(sp, st, half, mask, tweak, prog);
        break;
    case 2:
        cn_loop_portable_v2(sp, st, half, mask, tweak, prog);
        break;
    default:
        cn_loop_portable_v4(sp, st, half, mask, tweak, prog);
        break;
    }

    /* The final pass starts again from the untouched text of the Keccak state. */
    cn_aes_expand_key(st->b + 32, keys);
    cn_aes_absorb_portable(sp, pr->memory, st->b + 64, keys);
}

#if CN_HAVE_AESNI_CODE

#define CN_AESNI_TARGET __attribute__((target("aes,sse2")))

static CN_ALWAYS_INLINE CN_AESNI_TARGET uint64_t xmm_hi64(__m128i x)
{
    return (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x));
}

/* Variant 2 shuffle (see v2_shuffle_portable); returns the XOR of the three old chunks for variant 4. */
static CN_ALWAYS_INLINE CN_AESNI_TARGET __m128i v2_shuffle_ni(uint8_t *sp, uint64_t j, __m128i a, __m128i b0,
                                                              __m128i b1)
{
    __m128i *c1 = (__m128i *)(sp + (j ^ 0x10));
    __m128i *c2 = (__m128i *)(sp + (j ^ 0x20));
    __m128i *c3 = (__m128i *)(sp + (j ^ 0x30));
    const __m128i x1 = _mm_load_si128(c1);
    const __m128i x2 = _mm_load_si128(c2);
    const __m128i x3 = _mm_load_si128(c3);
    _mm_store_si128(c1, _mm_add_epi64(x3, b1));
    _mm_store_si128(c2, _mm_add_epi64(x1, b0));
    _mm_store_si128(c3, _mm_add_epi64(x2, a));
    return _mm_xor_si128(_mm_xor_si128(x1, x2), x3);
}

/* The main loop with AESENC; same steps as cn_loop_portable, with a in two general registers and b, c in
 * XMM registers. */
static CN_ALWAYS_INLINE CN_AESNI_TARGET void cn_loop_ni(uint8_t *sp, const cn_state *st, uint32_t half_iters,
                                                        uint64_t mask, uint64_t tweak, const cn_r_program *prog,
                                                        const int variant)
{
    uint64_t al = st->w[0] ^ st->w[4], ah = st->w[1] ^ st->w[5];
    __m128i b0 = _mm_set_epi64x((long long)(st->w[3] ^ st->w[7]), (long long)(st->w[2] ^ st->w[6]));
    __m128i b1 = _mm_set_epi64x((long long)(st->w[9] ^ st->w[11]), (long long)(st->w[8] ^ st->w[10]));
    uint64_t div = st->w[12], sqr = st->w[13];
    uint32_t r[9];

    cn_r_init_registers(r, st->w[12], st->w[13]);
    for (uint32_t i = 0; i < half_iters; i++) {
        const __m128i ax = _mm_set_epi64x((long long)ah, (long long)al);
        const uint64_t j = al & mask;
        __m128i *p = (__m128i *)(sp + j);
        __m128i c = _mm_aesenc_si128(_mm_load_si128(p), ax);
        if (variant >= 2) {
            const __m128i old = v2_shuffle_ni(sp, j, ax, b0, b1);
            if (variant == 4) {
                c = _mm_xor_si128(c, old);
            }
        }
        const __m128i w = _mm_xor_si128(b0, c);
        if (variant == 1) {
            uint64_t *q = (uint64_t *)p;
            q[0] = (uint64_t)_mm_cvtsi128_si64(w);
            q[1] = v1_tweak_hi(xmm_hi64(w));
        } else {
            _mm_store_si128(p, w);
        }

        const uint64_t cl = (uint64_t)_mm_cvtsi128_si64(c);
        const uint64_t k = cl & mask;
        uint64_t *q = (uint64_t *)(sp + k);
        uint64_t dl = q[0];
        const uint64_t dh = q[1];
        if (variant == 2) {
            v2_integer_math(&dl, cl, xmm_hi64(c), &div, &sqr);
        } else if (variant == 4) {
            dl ^= cn_r_d_mix(r);
            cn_r_run(prog, r, al, ah, (uint64_t)_mm_cvtsi128_si64(b0), (uint64_t)_mm_cvtsi128_si64(b1),
                     xmm_hi64(b1));
            al ^= cn_r_a_lo_mix(r); /* the shuffle below still uses the old a, kept in ax */
            ah ^= cn_r_a_hi_mix(r);
        }
        const unsigned __int128 prod = (unsigned __int128)cl * dl;
        uint64_t hi = (uint64_t)(prod >> 64), lo = (uint64_t)prod;
        CN_IN_GPR(hi);
        CN_IN_GPR(lo);
        if (variant == 2) {
            uint64_t *n1 = (uint64_t *)(sp + (k ^ 0x10));
            const uint64_t *n2 = (const uint64_t *)(sp + (k ^ 0x20));
            n1[0] ^= hi;
            n1[1] ^= lo;
            hi ^= n2[0];
            lo ^= n2[1];
        }
        if (variant >= 2) {
            const __m128i old = v2_shuffle_ni(sp, k, ax, b0, b1);
            if (variant == 4) {
                c = _mm_xor_si128(c, old);
            }
        }
        al += hi;
        ah += lo;
        CN_IN_GPR(al);
        CN_IN_GPR(ah);
        q[0] = al;
        q[1] = variant == 1 ? ah ^ tweak : ah;
        al ^= dl;
        ah ^= dh;
        b1 = b0;
        b0 = c;
    }
}

CN_LOOP_INSTANCE(cn_loop_ni_v0, CN_AESNI_TARGET, cn_loop_ni, 0)
CN_LOOP_INSTANCE(cn_loop_ni_v1, CN_AESNI_TARGET, cn_loop_ni, 1)
CN_LOOP_INSTANCE(cn_loop_ni_v2, CN_AESNI_TARGET, cn_loop_ni, 2)
CN_LOOP_INSTANCE(cn_loop_ni_v4, CN_AESNI_TARGET, cn_loop_ni, 4)

static CN_AESNI_TARGET void cn_core_ni(cn_state *st, uint8_t *sp, const cn_params *pr, uint64_t tweak,
                                       const cn_r_program *prog)
{
    uint8_t keys[CN_AES_EXPANDED_BYTES];
    uint8_t text[128];
    const uint32_t half = pr->iterations / 2;
    const uint64_t mask = pr->mask;

    memcpy(text, st->b + 64, sizeof(text));
    cn_aes_expand_key(st->b, keys);
    cn_aes_fill_ni(sp, pr->memory, text, keys);

    switch (pr->variant) {
    case 0:
        cn_loop_ni_v0(sp, st, half, mask, tweak, prog);
        break;
    case 1:
        cn_loop_ni_v1(sp, st, half, mask, tweak, prog);
        break;
    case 2:
        cn_loop_ni_v2(sp, st, half, mask, tweak, prog);
        break;
    default:
        cn_loop_ni_v4(sp, st, half, mask, tweak, prog);
        break;
    }

    cn_aes_expand_key(st->b + 32, keys);
    cn_aes_absorb_ni(sp, pr->memory, st->b + 64, keys);
}

#endif /* CN_HAVE_AESNI_CODE */

static int cn_params_valid(const cn_params *p)
{
    const size_t m = p->memory;
    if (m < CN_MIN_MEMORY || m > CN_MAX_MEMORY || (m & (m - 1)) != 0) {
        return 0;
    }
    /* Every address (x & mask) and its variant 2 neighbours (^ 0x10, 0x20, 0x30) must be 16-byte aligned
     * blocks inside the scratchpad; with m a power of two >= 64, mask < m guarantees both. */
    if ((size_t)p->mask >= m || (p->mask & 0xf) != 0) {
        return 0;
    }
    if (p->iterations == 0 || (p->iterations & 1) != 0) {
        return 0;
    }
    return p->variant == 0 || p->variant == 1 || p->variant == 2 || p->variant == 4;
}

int cn_slow_hash(const uint8_t *data, size_t len, uint8_t out[32], const cn_params *params,
                 uint64_t height, uint8_t *scratchpad)
{
    cn_state st;
    uint64_t tweak = 0;
    const cn_r_program *prog = NULL;
    if (params == NULL || out == NULL || scratchpad == NULL || (data == NULL && len != 0) ||
        ((uintptr_t)scratchpad & 0xf) != 0 || !cn_params_valid(params)) {
        return -1;
    }
    if ((params->variant == 1 || params->variant == 2) && len < CN_TWEAK_INPUT_BYTES) {
        return -1;
    }

    cn_keccak1600(data, len, st.b);
    if (params->variant == 1) {
        tweak = load64(data + 35) ^ st.w[24];
    } else if (params->variant == 4) {
        prog = cn_r_program_cached(height); /* per thread; regenerated when the height changes */
    }

#if CN_HAVE_AESNI_CODE
    if (cn_aes_use_ni()) {
        cn_core_ni(&st, scratchpad, params, tweak, prog);
    } else {
        cn_core_portable(&st, scratchpad, params, tweak, prog);
    }
#else
    cn_aes_init();
    cn_core_portable(&st, scratchpad, params, tweak, prog);
#endif

    cn_keccakf(st.w);
    switch (st.b[0] & 3) {
    case 0:
        cn_blake256(st.b, sizeof(st.b), out);
        break;
    case 1:
        cn_groestl256(st.b, sizeof(st.b), out);
        break;
    case 2:
        cn_jh256(st.b, sizeof(st.b), out);
        break;
    default:
        cn_skein512_256(st.b, sizeof(st.b), out);
        break;
    }
    return 0;
}
