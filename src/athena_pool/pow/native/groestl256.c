/*
 * Groestl-256, final (round-3, "tweaked") version of the SHA-3 submission.
 *
 * Written from the Groestl specification (Gauravaram, Knudsen, Matusiewicz, Mendel, Rechberger,
 * Schlaeffer, Thomsen, 2011):
 *   - 512-bit chaining value and blocks, viewed as an 8x8 byte matrix filled column by column
 *     (byte k of a block is row k % 8, column k / 8);
 *   - compression f(h, m) = P(h ^ m) ^ Q(m) ^ h, output transformation trunc_256(P(x) ^ x)
 *     (the last 32 bytes);
 *   - P and Q: 10 rounds of AddRoundConstant, SubBytes (AES S-box), ShiftBytes and MixBytes;
 *     ShiftBytes moves row r left by (0, 1, 2, 3, 4, 5, 6, 7)[r] columns in P and by
 *     (1, 3, 5, 7, 0, 2, 4, 6)[r] in Q; MixBytes multiplies every column by circ(2, 2, 3, 4, 5, 3, 5, 7);
 *   - IV: the output length in bits (256) as a 64-byte big-endian number;
 *   - padding: a 1 bit, zeros, then the number of blocks (after padding) as a 64-bit big-endian number.
 *
 * Representation: the state is 8 column words; byte r (bits 8r..8r+7) of column word c is the matrix
 * entry at row r, column c, so a column word is just the 8 block bytes 8c..8c+7 read little-endian.
 *
 * SubBytes and MixBytes are merged into one table lookup per byte. Byte i of groestl_t0[x] is
 * b[(8 - i) mod 8] * S(x) in GF(2^8) (modulus x^8 + x^4 + x^3 + x + 1), with S the AES S-box and
 * b = (2, 2, 3, 4, 5, 3, 5, 7): the output column produced by the value x in row 0 of an input column.
 * The matrix is circulant, so the contribution of a value in row r is groestl_t0[x] rotated left by 8r
 * bits. The table was generated from these definitions; the test vectors check it.
 */
#include <string.h>

#include "cn_hashes.h"

static const uint64_t groestl_t0[256] = {
    0xc6a597f4a5f432c6ull, 0xf884eb9784976ff8ull, 0xee99c7b099b05eeeull, 0xf68df78c8d8c7af6ull,
    0xff0de5170d17e8ffull, 0xd6bdb7dcbddc0ad6ull, 0xdeb1a7c8b1c816deull, 0x915439fc54fc6d91ull,
    0x6050c0f050f09060ull, 0x0203040503050702ull, 0xcea987e0a9e02eceull, 0x567dac877d87d156ull,
    0xe719d52b192bcce7ull, 0xb56271a662a613b5ull, 0x4de69a31e6317c4dull, 0xec9ac3b59ab559ecull,
    0x8f4505cf45cf408full, 0x1f9d3ebc9dbca31full, 0x894009c040c04989ull, 0xfa87ef92879268faull,
    0xef15c53f153fd0efull, 0xb2eb7f26eb2694b2ull, 0x8ec90740c940ce8eull, 0xfb0bed1d0b1de6fbull,
    0x41ec822fec2f6e41ull, 0xb3677da967a91ab3ull, 0x5ffdbe1cfd1c435full, 0x45ea8a25ea256045ull,
    0x23bf46dabfdaf923ull, 0x53f7a602f7025153ull, 0xe496d3a196a145e4ull, 0x9b5b2ded5bed769bull,
    0x75c2ea5dc25d2875ull, 0xe11cd9241c24c5e1ull, 0x3dae7ae9aee9d43dull, 0x4c6a98be6abef24cull,
    0x6c5ad8ee5aee826cull, 0x7e41fcc341c3bd7eull, 0xf502f1060206f3f5ull, 0x834f1dd14fd15283ull,
    0x685cd0e45ce48c68ull, 0x51f4a207f4075651ull, 0xd134b95c345c8dd1ull, 0xf908e9180818e1f9ull,
    0xe293dfae93ae4ce2ull, 0xab734d9573953eabull, 0x6253c4f553f59762ull, 0x2a3f54413f416b2aull,
    0x080c10140c141c08ull, 0x955231f652f66395ull, 0x46658caf65afe946ull, 0x9d5e21e25ee27f9dull,
    0x3028607828784830ull, 0x37a16ef8a1f8cf37ull, 0x0a0f14110f111b0aull, 0x2fb55ec4b5c4eb2full,
    0x0e091c1b091b150eull, 0x2436485a365a7e24ull, 0x1b9b36b69bb6ad1bull, 0xdf3da5473d4798dfull,
    0xcd26816a266aa7cdull, 0x4e699cbb69bbf54eull, 0x7fcdfe4ccd4c337full, 0xea9fcfba9fba50eaull,
    0x121b242d1b2d3f12ull, 0x1d9e3ab99eb9a41dull, 0x5874b09c749cc458ull, 0x342e68722e724634ull,
    0x362d6c772d774136ull, 0xdcb2a3cdb2cd11dcull, 0xb4ee7329ee299db4ull, 0x5bfbb616fb164d5bull,
    0xa4f65301f601a5a4ull, 0x764decd74dd7a176ull, 0xb76175a361a314b7ull, 0x7dcefa49ce49347dull,
    0x527ba48d7b8ddf52ull, 0xdd3ea1423e429fddull, 0x5e71bc937193cd5eull, 0x139726a297a2b113ull,
    0xa6f55704f504a2a6ull, 0xb96869b868b801b9ull, 0x0000000000000000ull, 0xc12c99742c74b5c1ull,
    0x406080a060a0e040ull, 0xe31fdd211f21c2e3ull, 0x79c8f243c8433a79ull, 0xb6ed772ced2c9ab6ull,
    0xd4beb3d9bed90dd4ull, 0x8d4601ca46ca478dull, 0x67d9ce70d9701767ull, 0x724be4dd4bddaf72ull,
    0x94de3379de79ed94ull, 0x98d42b67d467ff98ull, 0xb0e87b23e82393b0ull, 0x854a11de4ade5b85ull,
    0xbb6b6dbd6bbd06bbull, 0xc52a917e2a7ebbc5ull, 0x4fe59e34e5347b4full, 0xed16c13a163ad7edull,
    0x86c51754c554d286ull, 0x9ad72f62d762f89aull, 0x6655ccff55ff9966ull, 0x119422a794a7b611ull,
    0x8acf0f4acf4ac08aull, 0xe910c9301030d9e9ull, 0x0406080a060a0e04ull, 0xfe81e798819866feull,
    0xa0f05b0bf00baba0ull, 0x7844f0cc44ccb478ull, 0x25ba4ad5bad5f025ull, 0x4be3963ee33e754bull,
    0xa2f35f0ef30eaca2ull, 0x5dfeba19fe19445dull, 0x80c01b5bc05bdb80ull, 0x058a0a858a858005ull,
    0x3fad7eecadecd33full, 0x21bc42dfbcdffe21ull, 0x7048e0d848d8a870ull, 0xf104f90c040cfdf1ull,
    0x63dfc67adf7a1963ull, 0x77c1ee58c1582f77ull, 0xaf75459f759f30afull, 0x426384a563a5e742ull,
    0x2030405030507020ull, 0xe51ad12e1a2ecbe5ull, 0xfd0ee1120e12effdull, 0xbf6d65b76db708bfull,
    0x814c19d44cd45581ull, 0x1814303c143c2418ull, 0x26354c5f355f7926ull, 0xc32f9d712f71b2c3ull,
    0xbee16738e13886beull, 0x35a26afda2fdc835ull, 0x88cc0b4fcc4fc788ull, 0x2e395c4b394b652eull,
    0x93573df957f96a93ull, 0x55f2aa0df20d5855ull, 0xfc82e39d829d61fcull, 0x7a47f4c947c9b37aull,
    0xc8ac8befacef27c8ull, 0xbae76f32e73288baull, 0x322b647d2b7d4f32ull, 0xe695d7a495a442e6ull,
    0xc0a09bfba0fb3bc0ull, 0x199832b398b3aa19ull, 0x9ed12768d168f69eull, 0xa37f5d817f8122a3ull,
    0x446688aa66aaee44ull, 0x547ea8827e82d654ull, 0x3bab76e6abe6dd3bull, 0x0b83169e839e950bull,
    0x8cca0345ca45c98cull, 0xc729957b297bbcc7ull, 0x6bd3d66ed36e056bull, 0x283c50443c446c28ull,
    0xa779558b798b2ca7ull, 0xbce2633de23d81bcull, 0x161d2c271d273116ull, 0xad76419a769a37adull,
    0xdb3bad4d3b4d96dbull, 0x6456c8fa56fa9e64ull, 0x744ee8d24ed2a674ull, 0x141e28221e223614ull,
    0x92db3f76db76e492ull, 0x0c0a181e0a1e120cull, 0x486c90b46cb4fc48ull, 0xb8e46b37e4378fb8ull,
    0x9f5d25e75de7789full, 0xbd6e61b26eb20fbdull, 0x43ef862aef2a6943ull, 0xc4a693f1a6f135c4ull,
    0x39a872e3a8e3da39ull, 0x31a462f7a4f7c631ull, 0xd337bd5937598ad3ull, 0xf28bff868b8674f2ull,
    0xd532b156325683d5ull, 0x8b430dc543c54e8bull, 0x6e59dceb59eb856eull, 0xdab7afc2b7c218daull,
    0x018c028f8c8f8e01ull, 0xb16479ac64ac1db1ull, 0x9cd2236dd26df19cull, 0x49e0923be03b7249ull,
    0xd8b4abc7b4c71fd8ull, 0xacfa4315fa15b9acull, 0xf307fd090709faf3ull, 0xcf25856f256fa0cfull,
    0xcaaf8feaafea20caull, 0xf48ef3898e897df4ull, 0x47e98e20e9206747ull, 0x1018202818283810ull,
    0x6fd5de64d5640b6full, 0xf088fb83888373f0ull, 0x4a6f94b16fb1fb4aull, 0x5c72b8967296ca5cull,
    0x3824706c246c5438ull, 0x57f1ae08f1085f57ull, 0x73c7e652c7522173ull, 0x975135f351f36497ull,
    0xcb238d652365aecbull, 0xa17c59847c8425a1ull, 0xe89ccbbf9cbf57e8ull, 0x3e217c6321635d3eull,
    0x96dd377cdd7cea96ull, 0x61dcc27fdc7f1e61ull, 0x0d861a9186919c0dull, 0x0f851e9485949b0full,
    0xe090dbab90ab4be0ull, 0x7c42f8c642c6ba7cull, 0x71c4e257c4572671ull, 0xccaa83e5aae529ccull,
    0x90d83b73d873e390ull, 0x06050c0f050f0906ull, 0xf701f5030103f4f7ull, 0x1c12383612362a1cull,
    0xc2a39ffea3fe3cc2ull, 0x6a5fd4e15fe18b6aull, 0xaef94710f910beaeull, 0x69d0d26bd06b0269ull,
    0x17912ea891a8bf17ull, 0x995829e858e87199ull, 0x3a2774692769533aull, 0x27b94ed0b9d0f727ull,
    0xd938a948384891d9ull, 0xeb13cd351335deebull, 0x2bb356ceb3cee52bull, 0x2233445533557722ull,
    0xd2bbbfd6bbd604d2ull, 0xa9704990709039a9ull, 0x07890e8089808707ull, 0x33a766f2a7f2c133ull,
    0x2db65ac1b6c1ec2dull, 0x3c22786622665a3cull, 0x15922aad92adb815ull, 0xc92089602060a9c9ull,
    0x874915db49db5c87ull, 0xaaff4f1aff1ab0aaull, 0x5078a0887888d850ull, 0xa57a518e7a8e2ba5ull,
    0x038f068a8f8a8903ull, 0x59f8b213f8134a59ull, 0x0980129b809b9209ull, 0x1a1734391739231aull,
    0x65daca75da751065ull, 0xd731b553315384d7ull, 0x84c61351c651d584ull, 0xd0b8bbd3b8d303d0ull,
    0x82c31f5ec35edc82ull, 0x29b052cbb0cbe229ull, 0x5a77b4997799c35aull, 0x1e113c3311332d1eull,
    0x7bcbf646cb463d7bull, 0xa8fc4b1ffc1fb7a8ull, 0x6dd6da61d6610c6dull, 0x2c3a584e3a4e622cull,
};

#define GROESTL_ROUNDS 10

static inline uint64_t groestl_rotl64(uint64_t x, unsigned n)
{
    n &= 63u;
    return n ? (x << n) | (x >> (64u - n)) : x;
}

static inline uint64_t groestl_load_le64(const uint8_t *p)
{
    uint64_t w = 0;
    int i;

    for (i = 7; i >= 0; i--) {
        w = (w << 8) | p[i];
    }
    return w;
}

/* One output column of SubBytes + ShiftBytes + MixBytes: row r is taken from input column
 * (c + shift r) mod 8. s0..s7 are those column indices. */
#define GROESTL_COLUMN(in, s0, s1, s2, s3, s4, s5, s6, s7)                                   \
    (groestl_t0[(in)[s0] & 0xff]                                                             \
     ^ groestl_rotl64(groestl_t0[((in)[s1] >> 8) & 0xff], 8)                                 \
     ^ groestl_rotl64(groestl_t0[((in)[s2] >> 16) & 0xff], 16)                               \
     ^ groestl_rotl64(groestl_t0[((in)[s3] >> 24) & 0xff], 24)                               \
     ^ groestl_rotl64(groestl_t0[((in)[s4] >> 32) & 0xff], 32)                               \
     ^ groestl_rotl64(groestl_t0[((in)[s5] >> 40) & 0xff], 40)                               \
     ^ groestl_rotl64(groestl_t0[((in)[s6] >> 48) & 0xff], 48)                               \
     ^ groestl_rotl64(groestl_t0[(in)[s7] >> 56], 56))

/* P: ShiftBytes shifts row r by r. */
static inline void groestl_round_p(const uint64_t a[8], uint64_t b[8])
{
    b[0] = GROESTL_COLUMN(a, 0, 1, 2, 3, 4, 5, 6, 7);
    b[1] = GROESTL_COLUMN(a, 1, 2, 3, 4, 5, 6, 7, 0);
    b[2] = GROESTL_COLUMN(a, 2, 3, 4, 5, 6, 7, 0, 1);
    b[3] = GROESTL_COLUMN(a, 3, 4, 5, 6, 7, 0, 1, 2);
    b[4] = GROESTL_COLUMN(a, 4, 5, 6, 7, 0, 1, 2, 3);
    b[5] = GROESTL_COLUMN(a, 5, 6, 7, 0, 1, 2, 3, 4);
    b[6] = GROESTL_COLUMN(a, 6, 7, 0, 1, 2, 3, 4, 5);
    b[7] = GROESTL_COLUMN(a, 7, 0, 1, 2, 3, 4, 5, 6);
}

/* Q: ShiftBytes shifts rows 0..7 by 1, 3, 5, 7, 0, 2, 4, 6. */
static inline void groestl_round_q(const uint64_t a[8], uint64_t b[8])
{
    b[0] = GROESTL_COLUMN(a, 1, 3, 5, 7, 0, 2, 4, 6);
    b[1] = GROESTL_COLUMN(a, 2, 4, 6, 0, 1, 3, 5, 7);
    b[2] = GROESTL_COLUMN(a, 3, 5, 7, 1, 2, 4, 6, 0);
    b[3] = GROESTL_COLUMN(a, 4, 6, 0, 2, 3, 5, 7, 1);
    b[4] = GROESTL_COLUMN(a, 5, 7, 1, 3, 4, 6, 0, 2);
    b[5] = GROESTL_COLUMN(a, 6, 0, 2, 4, 5, 7, 1, 3);
    b[6] = GROESTL_COLUMN(a, 7, 1, 3, 5, 6, 0, 2, 4);
    b[7] = GROESTL_COLUMN(a, 0, 2, 4, 6, 7, 1, 3, 5);
}

#undef GROESTL_COLUMN

/* AddRoundConstant of P: row 0, column j ^= (j << 4) ^ r. */
static inline void groestl_add_rc_p(uint64_t x[8], unsigned r)
{
    int j;

    for (j = 0; j < 8; j++) {
        x[j] ^= (uint64_t)(((unsigned)j << 4) ^ r);
    }
}

/* AddRoundConstant of Q: every byte ^= 0xff; row 7, column j additionally ^= (j << 4) ^ r. */
static inline void groestl_add_rc_q(uint64_t x[8], unsigned r)
{
    int j;

    for (j = 0; j < 8; j++) {
        x[j] ^= ~((uint64_t)(((unsigned)j << 4) ^ r) << 56);
    }
}

static void groestl_perm_p(uint64_t x[8])
{
    uint64_t t[8];
    unsigned r;

    for (r = 0; r < GROESTL_ROUNDS; r += 2) {
        groestl_add_rc_p(x, r);
        groestl_round_p(x, t);
        groestl_add_rc_p(t, r + 1);
        groestl_round_p(t, x);
    }
}

/* P(x) and Q(y) together: they are independent, so their rounds interleave well. */
static void groestl_perm_pq(uint64_t x[8], uint64_t y[8])
{
    uint64_t tx[8], ty[8];
    unsigned r;

    for (r = 0; r < GROESTL_ROUNDS; r += 2) {
        groestl_add_rc_p(x, r);
        groestl_add_rc_q(y, r);
        groestl_round_p(x, tx);
        groestl_round_q(y, ty);
        groestl_add_rc_p(tx, r + 1);
        groestl_add_rc_q(ty, r + 1);
        groestl_round_p(tx, x);
        groestl_round_q(ty, y);
    }
}

/* h <- P(h ^ m) ^ Q(m) ^ h */
static void groestl_compress(uint64_t h[8], const uint8_t block[64])
{
    uint64_t p[8], q[8];
    int i;

    for (i = 0; i < 8; i++) {
        q[i] = groestl_load_le64(block + 8 * i);
        p[i] = h[i] ^ q[i];
    }
    groestl_perm_pq(p, q);
    for (i = 0; i < 8; i++) {
        h[i] ^= p[i] ^ q[i];
    }
}

void cn_groestl256(const uint8_t *data, size_t len, uint8_t out[32])
{
    uint64_t h[8], p[8];
    uint8_t block[64];
    uint64_t nblocks;
    size_t rem;
    int i;

    /* IV: 256 as a 64-byte big-endian number, so byte 62 = 0x01: column 7, row 6. */
    memset(h, 0, sizeof h);
    h[7] = (uint64_t)0x01 << 48;

    nblocks = (uint64_t)(len / 64);
    while (len >= 64) {
        groestl_compress(h, data);
        data += 64;
        len -= 64;
    }

    /* Padding: 0x80, zeros, then the total block count (64-bit big-endian) in the last 8 bytes. */
    rem = len;
    memset(block, 0, sizeof block);
    if (rem > 0) {
        memcpy(block, data, rem);
    }
    block[rem] = 0x80;
    if (rem > 55) {
        /* no room for the block count: this block, then one more holding only the count */
        groestl_compress(h, block);
        memset(block, 0, sizeof block);
        nblocks += 2;
    } else {
        nblocks += 1;
    }
    for (i = 0; i < 8; i++) {
        block[56 + i] = (uint8_t)(nblocks >> (56 - 8 * i));
    }
    groestl_compress(h, block);

    /* Output transformation: trunc_256(P(h) ^ h), the last 32 bytes = columns 4..7. */
    for (i = 0; i < 8; i++) {
        p[i] = h[i];
    }
    groestl_perm_p(p);
    for (i = 4; i < 8; i++) {
        uint64_t w = h[i] ^ p[i];
        int k;
        for (k = 0; k < 8; k++) {
            out[8 * (i - 4) + k] = (uint8_t)(w >> (8 * k));
        }
    }
}
