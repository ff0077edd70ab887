/*
 * JH-256 as submitted to the third round of the SHA-3 competition (Hongjun Wu, "The Hash Function JH",
 * 2011): 1024-bit state, 512-bit message blocks, E8 = 42 rounds of R8.
 *
 * Hashing (spec sections 5 and 6):
 *   - F8(H, M) = E8(H xor (M || 0^512)) xor (0^512 || M);
 *   - H(-1) has the digest size 256 in its first 16 bits (bytes 0x01 0x00) and zeros elsewhere, and
 *     H(0) = F8(H(-1), 0^512);
 *   - padding: a 1 bit, then 383 + (-l mod 512) zero bits, then the 128-bit big-endian bit length l, so
 *     there is always at least one padding block of 512 bits;
 *   - the digest is the last 256 bits of the final state.
 *
 * Bit-sliced E8 (the approach of spec section 7, worked out again here):
 *   Bits are numbered big-endian (bit 0 = most significant bit of byte 0). Cut the 1024-bit state into
 *   eight 128-bit words x0..x7, x_k = bits 128k .. 128k+127. The spec's grouping makes element 2i of
 *   the 4-bit-element state out of bit i of x0, x2, x4, x6 (most significant first) and element 2i+1
 *   out of bit i of x1, x3, x5, x7, so grouping and de-grouping cost nothing: the even words hold the
 *   "A" inputs of the linear transformation L and the odd words its "B" inputs, at equal bit index.
 *
 *   On those 128-bit indices the permutation P8 (= phi o P' o pi) rotates a 7-bit index right by one
 *   for the even elements and rotates right by one and then flips the top index bit for the odd ones.
 *   Instead of moving the bits, the even words stay where they are, which relabels the index of every
 *   element by one rotation per round; to keep the odd elements paired with the same even element the
 *   odd words must then be permuted by index xor 2^(r mod 7) in round r (swap adjacent bits, 2-bit
 *   groups, ..., 64-bit halves). After 42 = 6 * 7 rounds the relabelling is the identity again. The
 *   round constants below are the spec's C_r (C_0 = the first 256 bits of the fraction of sqrt(2),
 *   C_{r+1} = R6(C_r, 0)) with bit c_{2j} / c_{2j+1} moved to the position holding logical element
 *   index j in round r; they were generated from that definition by a small script.
 *
 *   A 128-bit word is kept as two uint64_t read little-endian from 16 consecutive bytes, so index p of
 *   a word is machine bit (p % 64) xor 7 of half p / 64; "xor 7" preserves every swap pattern.
 */
#include <string.h>

#include "cn_hashes.h"

/* Per round: even-word constant (low, high half), odd-word constant (low, high half). */
static const uint64_t jh_rc[42][4] = {
    {0x67F815DFA2DED572, 0x571523B70A15847B, 0xF6875A4D90D6AB81, 0x402BD1C3C54F9F4E},
    {0x9CFA455CE03A98EA, 0x9A99B26699D2C503, 0x8A53BBF2B4960266, 0x31A2DB881A1456B5},
    {0xDB0E199A5C5AA303, 0x1044C1870AB23F40, 0x1D959E848019051C, 0xDCCDE75EADEB336F},
    {0x416BBF029213BA10, 0xD027BBF7156578DC, 0x5078AA3739812C0A, 0xD3910041D2BF1A3F},
    {0x907ECCF60D5A2D42, 0xCE97C0929C9F62DD, 0xAC442BC70BA75C18, 0x23FCC663D665DFD1},
    {0x1AB8E09E036C6E97, 0xA8EC6C447E450521, 0xFA618E5DBB03F1EE, 0x97818394B29796FD},
    {0x2F3003DB37858E4A, 0x956A9FFB2D8D672A, 0x6C69B8F88173FE8A, 0x14427FC04672C78A},
    {0xC45EC7BD8F15F4C5, 0x80BB118FA76F4475, 0xBC88E4AEB775DE52, 0xF4A3A6981E00B882},
    {0x1563A3A9338FF48E, 0x89F9B7D524565FAA, 0xFDE05A7C20EDF1B6, 0x362C42065AE9CA36},
    {0x3D98FE4E433529CE, 0xA74B9A7374F93A53, 0x86814E6F591FF5D0, 0x9F5AD8AF81AD9D0E},
    {0x6A6234EE670605A7, 0x2717B96EBE280B8B, 0x3F1080C626077447, 0x7B487EC66F7EA0E0},
    {0xC0A4F84AA50A550D, 0x9EF18E979FE7E391, 0xD48D605081727686, 0x62B0E5F3415A9E7E},
    {0x7A205440EC1F9FFC, 0x84C9F4CE001AE4E3, 0xD895FA9DF594D74F, 0xA554C324117E2E55},
    {0x286EFEBD2872DF5B, 0xB2C4A50FE27FF578, 0x2ED349EEEF7C8905, 0x7F5928EB85937E44},
    {0x4A3124B337695F70, 0x65E4D61DF128865E, 0xE720B95104771BC7, 0x8A87D423E843FE74},
    {0xF2947692A3E8297D, 0xC1D9309B097ACBDD, 0xE01BDC5BFB301B1D, 0xBF829CF24F4924DA},
    {0xFFBF70B431BAE7A4, 0x48BCF8DE0544320D, 0x39D3BB5332FCAE3B, 0xA08B29E0C1C39F45},
    {0x0F09AEF7FD05C9E5, 0x34F1904212347094, 0x95ED44E301B771A2, 0x4A982F4F368E3BE9},
    {0x15F66CA0631D4088, 0xFFAF52874B44C147, 0x30C60AE2F14ABB7E, 0xE68C6ECCC5B67046},
    {0x00CA4FBD56A4D5A4, 0xAE183EC84B849DDA, 0xADD1643045CE5773, 0x67255C1468CEA6E8},
    {0x16E10ECBF28CDAA3, 0x9A99949A5806E933, 0x7B846FC220B2601F, 0x1885D1A07FACCED1},
    {0xD319DD8DA15B5932, 0x46B4A5AAC01C9A50, 0xBA6B04E467633D9F, 0x7EEE560BAB19CAF6},
    {0x742128A9EA79B11F, 0xEE51363B35F7BDE9, 0x76D350755AAC571D, 0x01707DA3FEC2463A},
    {0x42D8A498AFC135F7, 0x79676B9E20ECED78, 0xA8DB3AEA15638341, 0x832C83324D3BC3FA},
    {0xF347271C1F3B40A7, 0x9A762DB734F04059, 0xFD4F21D26C4E3EE7, 0xEF5957DC398DFDB8},
    {0xDAEB492B490C9B8D, 0x0D70F36849D7A25B, 0x84558D7AD0AE3B7D, 0x658EF8E4F0E9A5F5},
    {0x533B1036F4A2B8A0, 0x5AEC3E759E07A80C, 0x4F88E85692946891, 0x4CBCBAF8555CB05B},
    {0x7B9487F3993BBBE3, 0x5D1C6B72D6F4DA75, 0x6DB334DC28ACAE64, 0x71DB28B850A5346C},
    {0x2A518D10F2E261F8, 0xFC75DD593364DBE3, 0xA23FCE43F1BCAC1C, 0xB043E8023CD1BB67},
    {0x75A12988CA5B0A33, 0x5C5316B44D19347F, 0x1E4D790EC3943B92, 0x3FAFEEB6D7757479},
    {0x21391ABEF7D4A8EA, 0x5127234C097EF45C, 0xD23C32BA5324A326, 0xADD5A66D4A17A344},
    {0x08C9F2AFA63E1DB5, 0x563C6B91983D5983, 0x4D608672A17CF84C, 0xF6C76E08CC3EE246},
    {0x5E76BCB1B333982F, 0x2AE6C4EFA566D62B, 0x36D4C1BEE8B6F406, 0x6321EFBC1582EE74},
    {0x69C953F40D4EC1FD, 0x26585806C45A7DA7, 0x16FAE0061614C17E, 0x3F9D63283DAF907E},
    {0x0CD29B00E3F2C9D2, 0x300CD4B730CEAA5F, 0x9832E0F216512A74, 0x9AF8CEE3D830EB0D},
    {0x9279F1B57B9EC54B, 0xD36886046EE651FF, 0x316796E6574D239B, 0x05750A17F3A6E6CC},
    {0xCE6C3213D98176B1, 0x62A205F88452173C, 0x47154778B3CB2BF4, 0x486A9323825446FF},
    {0x65655E4E0758DF38, 0x8E5086FC897CFCF2, 0x86CA0BD0442E7031, 0x4E477830A20940F0},
    {0x8338F7D139EEA065, 0xBD3A2CE437E95EF7, 0x6FF8130126B29721, 0xE7DE9FEFD1ED44A3},
    {0xD992257615DFA08B, 0xBE42DC12F6F7853C, 0x7EB027AB7CECA7D8, 0xDEA83EAADA7D8D53},
    {0xD86902BD93CE25AA, 0xF908731AFD43F65A, 0xA5194A17DAEF5FC0, 0x6A21FD4C33664D97},
    {0x701541DB3198B435, 0x9B54CDEDBB0F1EEA, 0x72409751A163D09A, 0xE26F4791BF9D75F6},
};

static uint64_t jh_load64(const uint8_t *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
           ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) |
           ((uint64_t)p[7] << 56);
}

static void jh_store64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* The two S-boxes S0 and S1 as one circuit; the constant bit c selects S1. Inputs a0..a3 are the
 * element bits, a0 the most significant. Checked exhaustively against the spec's tables
 * S0 = {9,0,4,11,13,12,3,15,1,10,2,6,7,5,8,14} and S1 = {3,12,6,13,5,7,1,9,15,2,0,4,11,10,14,8}. */
static inline void jh_sbox(uint64_t *a0, uint64_t *a1, uint64_t *a2, uint64_t *a3, uint64_t c)
{
    uint64_t x0 = *a0, x1 = *a1, x2 = *a2, x3 = ~*a3, t;
    x0 ^= ~x2 & c;
    t = c ^ (x0 & x1);
    x0 ^= x2 & x3;
    x3 ^= ~x1 & x2;
    x1 ^= x0 & x2;
    x2 ^= x0 & ~x3;
    x0 ^= x1 | x3;
    x3 ^= x1 & x2;
    x1 ^= t & x0;
    x2 ^= t;
    *a0 = x0;
    *a1 = x1;
    *a2 = x2;
    *a3 = x3;
}

/* L(A, B) = (C, D) with D = 2A + B and C = 2D + A in GF(16) mod x^4 + x + 1, written per bit:
 * D0 = B0^A1, D1 = B1^A2, D2 = B2^A3^A0, D3 = B3^A0; C0 = A0^D1, C1 = A1^D2, C2 = A2^D3^D0, C3 = A3^D0.
 * A is x[0], x[2], x[4], x[6]; B is x[1], x[3], x[5], x[7]. */
static inline void jh_linear(uint64_t x[8])
{
    x[1] ^= x[2];
    x[3] ^= x[4];
    x[5] ^= x[6] ^ x[0];
    x[7] ^= x[0];
    x[0] ^= x[3];
    x[2] ^= x[5];
    x[4] ^= x[7] ^ x[1];
    x[6] ^= x[1];
}

/* Swap the bits at index p and p xor 2^s inside a 64-bit half (s < 6). */
static inline uint64_t jh_swap(uint64_t v, unsigned s)
{
    static const uint64_t masks[6] = {
        0x5555555555555555u, 0x3333333333333333u, 0x0F0F0F0F0F0F0F0Fu,
        0x00FF00FF00FF00FFu, 0x0000FFFF0000FFFFu, 0x00000000FFFFFFFFu,
    };
    unsigned sh = 1u << s;
    return ((v & masks[s]) << sh) | ((v >> sh) & masks[s]);
}

/* State: lo[k], hi[k] are the two halves of 128-bit word x_k. */
static void jh_e8(uint64_t lo[8], uint64_t hi[8])
{
    for (int r = 0; r < 42; r++) {
        const uint64_t *rc = jh_rc[r];
        unsigned s = (unsigned)(r % 7);

        jh_sbox(&lo[0], &lo[2], &lo[4], &lo[6], rc[0]);
        jh_sbox(&hi[0], &hi[2], &hi[4], &hi[6], rc[1]);
        jh_sbox(&lo[1], &lo[3], &lo[5], &lo[7], rc[2]);
        jh_sbox(&hi[1], &hi[3], &hi[5], &hi[7], rc[3]);
        jh_linear(lo);
        jh_linear(hi);
        if (s == 6) {
            for (int k = 1; k < 8; k += 2) {
                uint64_t t = lo[k];
                lo[k] = hi[k];
                hi[k] = t;
            }
        } else {
            for (int k = 1; k < 8; k += 2) {
                lo[k] = jh_swap(lo[k], s);
                hi[k] = jh_swap(hi[k], s);
            }
        }
    }
}

/* F8 on one 64-byte block. */
static void jh_compress(uint64_t lo[8], uint64_t hi[8], const uint8_t block[64])
{
    uint64_t mlo[4], mhi[4];
    for (int k = 0; k < 4; k++) {
        mlo[k] = jh_load64(block + 16 * k);
        mhi[k] = jh_load64(block + 16 * k + 8);
        lo[k] ^= mlo[k];
        hi[k] ^= mhi[k];
    }
    jh_e8(lo, hi);
    for (int k = 0; k < 4; k++) {
        lo[4 + k] ^= mlo[k];
        hi[4 + k] ^= mhi[k];
    }
}

void cn_jh256(const uint8_t *data, size_t len, uint8_t out[32])
{
    uint64_t lo[8] = {0}, hi[8] = {0};
    uint8_t block[64];

    /* H(-1): 0x0100 (256) in the first 16 bits; H(0) = F8(H(-1), 0). */
    memset(block, 0, sizeof block);
    lo[0] = 0x01;
    jh_compress(lo, hi, block);

    size_t full = len / 64;
    for (size_t i = 0; i < full; i++) {
        jh_compress(lo, hi, data + 64 * i);
    }

    /* Padding: 0x80, zeros, 128-bit big-endian bit length. If the tail (< 64 bytes) is empty the
     * padding is exactly one block; otherwise the tail block is followed by one more block. */
    size_t rest = len - 64 * full;
    uint8_t pad[128];
    memset(pad, 0, sizeof pad);
    if (rest > 0) {
        memcpy(pad, data + 64 * full, rest);
    }
    pad[rest] = 0x80;
    size_t pad_len = rest == 0 ? 64 : 128;
    /* Bit length as a 128-bit big-endian number; len * 8 may exceed 64 bits. */
    uint64_t bits_lo = (uint64_t)len << 3;
    uint64_t bits_hi = (uint64_t)len >> 61;
    for (size_t i = 0; i < 8; i++) {
        pad[pad_len - 1 - i] = (uint8_t)(bits_lo >> (8 * i));
        pad[pad_len - 9 - i] = (uint8_t)(bits_hi >> (8 * i));
    }
    jh_compress(lo, hi, pad);
    if (pad_len == 128) {
        jh_compress(lo, hi, pad + 64);
    }

    /* The digest: bytes 96..127 of the state = words x6 and x7. */
    jh_store64(out, lo[6]);
    jh_store64(out + 8, hi[6]);
    jh_store64(out + 16, lo[7]);
    jh_store64(out + 24, hi[7]);
}
