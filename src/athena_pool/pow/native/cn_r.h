/*
 * CryptonightR (cn/r, Monero's cn_slow_hash variant 4): the random-math program generator and its
 * interpreter, as a unit separate from the CryptoNight main loop (cryptonight.c).
 *
 * Written from the CryptonightR description (SChernykh, "random integer math", Monero PR #5126):
 *   - nine 32-bit registers r0..r8; r0..r3 are variable and survive from one iteration of the main loop to
 *     the next, r4..r8 are read-only inputs refreshed from the loop state on every iteration;
 *   - six operations: MUL a*b, ADD a+b+C (C a random 32-bit constant), SUB a-b, ROR/ROL a by b mod 32,
 *     XOR a^b (a = destination r0..r3, b = source r0..r8);
 *   - the program (60..70 instructions) is generated from the block height, with byte stream
 *     BLAKE-256 iterated over a 32-byte seed block, by a latency model of a 3-ALU CPU (one multiplier)
 *     until each of r0..r3 reaches a latency of 45 cycles, plus ROR/MUL/MUL padding for an ideal ASIC.
 *
 * ---------------------------------------------------------------------------------------------------------
 * How variant 4 plugs into the variant 2 main loop (all words little-endian; a, b0 = b, b1 = the b of the
 * previous iteration, st = the 200-byte Keccak state as 64-bit words w[0..24]):
 *
 *   before the loop:  prog = cn_r_program_cached(height) (or cn_r_generate into a local program);
 *                     cn_r_init_registers(r, st.w[12], st.w[13])      -- r0..r3 = state bytes 96..111.
 *                     Variant 2's division/square-root seeds (w[12], w[13]) are not used.
 *
 *   first half-step:  j = a.lo & mask; c = AESround(pad[j], key a);
 *                     shuffle at j as in variant 2 (uses a, b0, b1), and for variant 4 also
 *                         c ^= X1 ^ X2 ^ X3        (the three chunks pad[j^0x10], pad[j^0x20], pad[j^0x30]
 *                                                   as they were BEFORE the shuffle's additions);
 *                     pad[j] = b0 ^ c              (with the modified c).
 *
 *   second half-step: k = c.lo & mask; d = pad[k];
 *                     d.lo ^= cn_r_d_mix(r)                -- replaces variant 2's division/sqrt step; the
 *                                                             modified d.lo is used from here on, both in
 *                                                             the multiplication and in "a ^= d";
 *                     cn_r_run(prog, r, a.lo, a.hi, b0.lo, b1.lo, b1.hi)
 *                                                          -- r4 = (u32)a.lo, r5 = (u32)a.hi,
 *                                                             r6 = (u32)b0.lo, r7 = (u32)b1.lo,
 *                                                             r8 = (u32)b1.hi, then the program;
 *                     a'.lo = a.lo ^ cn_r_a_lo_mix(r)      -- (r2 | r3 << 32)
 *                     a'.hi = a.hi ^ cn_r_a_hi_mix(r)      -- (r0 | r1 << 32)
 *                     (hi, lo) = c.lo * d.lo               -- 64x64->128, with the c of the first half-step;
 *                     NO xor of (hi, lo) into pad[k^0x10] / with pad[k^0x20] (variant 2's "tweak 2-2" is
 *                     dropped in variant 4);
 *                     shuffle at k as in variant 2 with the OLD a (not a'), b0, b1, and for variant 4 also
 *                         c ^= X1 ^ X2 ^ X3        (pre-shuffle chunks of pad[k^0x10/0x20/0x30]);
 *                     a' += (hi, lo); pad[k] = a'; a = a' ^ d;
 *                     b1 = b0; b0 = c              (the c modified by BOTH shuffles).
 *
 * The product must be taken with c before the second shuffle modifies it; the shuffle, the program run and
 * the multiplication touch disjoint data otherwise, so their relative order is free.
 * Variant 4 needs no minimum input length (it has no variant 1 tweak).
 * ---------------------------------------------------------------------------------------------------------
 *
 * Everything here is pure and thread-safe; cn_r_program_cached keeps one program per thread.
 */
#ifndef ATHENA_CN_R_H
#define ATHENA_CN_R_H

#include <stdint.h>

#define CN_R_INSTRUCTIONS_MIN 60
#define CN_R_INSTRUCTIONS_MAX 70

/* Operation codes (the numbering of the description; RET ends the program). */
enum {
    CN_R_MUL = 0,
    CN_R_ADD = 1,
    CN_R_SUB = 2,
    CN_R_ROR = 3,
    CN_R_ROL = 4,
    CN_R_XOR = 5,
    CN_R_RET = 6
};

typedef struct {
    uint8_t opcode; /* CN_R_MUL .. CN_R_RET */
    uint8_t dst;    /* 0..3 */
    uint8_t src;    /* 0..8 */
    uint8_t slot;   /* interpreter handler: opcode * 36 + dst * 9 + src, 216 for RET */
    uint32_t c;     /* ADD constant, 0 for the other operations */
} cn_r_instruction;

/* The interpreter's form of one instruction (private to cn_r.c): the address of its handler and the ADD
 * constant. */
typedef struct {
    const void *entry;
    uint32_t c;
} cn_r_step;

typedef struct {
    uint64_t height;
    uint32_t size; /* instructions before the final RET: CN_R_INSTRUCTIONS_MIN..CN_R_INSTRUCTIONS_MAX */
    cn_r_instruction code[CN_R_INSTRUCTIONS_MAX + 1]; /* code[size] is RET */
    cn_r_step run[CN_R_INSTRUCTIONS_MAX + 1];          /* filled by cn_r_generate; only valid in-process */
} cn_r_program;

/* Builds the program of block `height` (deterministic; a few microseconds). */
void cn_r_generate(uint64_t height, cn_r_program *prog);

/* The program of `height`, regenerated only when the height differs from this thread's previous call.
 * The pointer stays valid until the same thread calls again. */
const cn_r_program *cn_r_program_cached(uint64_t height);

/* Runs the program on r[0..8]: r0..r3 are updated, r4..r8 are only read. */
void cn_r_execute(const cn_r_program *prog, uint32_t r[9]);

/* The same with the registers packed two by two into 64-bit words (r01 = r0 | r1 << 32, and so on), so that
 * they travel in CPU registers: returns r0..r3 as {lo = r0 | r1 << 32, hi = r2 | r3 << 32}. */
typedef struct {
    uint64_t lo;
    uint64_t hi;
} cn_r_pair;
cn_r_pair cn_r_execute_packed(const cn_r_program *prog, uint64_t r01, uint64_t r23, uint64_t r45, uint64_t r67,
                              uint64_t r8);

/* Loop helpers (see the recipe above). ----------------------------------------------------------------- */

/* r0..r3 from Keccak state bytes 96..111 (w12 = state word 12, w13 = state word 13). */
static inline void cn_r_init_registers(uint32_t r[9], uint64_t w12, uint64_t w13)
{
    r[0] = (uint32_t)w12;
    r[1] = (uint32_t)(w12 >> 32);
    r[2] = (uint32_t)w13;
    r[3] = (uint32_t)(w13 >> 32);
    r[4] = r[5] = r[6] = r[7] = r[8] = 0;
}

/* XORed into the low word of the block read in the second half-step, before the program runs. */
static inline uint64_t cn_r_d_mix(const uint32_t r[9])
{
    return (uint64_t)(uint32_t)(r[0] + r[1]) | ((uint64_t)(uint32_t)(r[2] + r[3]) << 32);
}

/* Loads r4..r8 from the loop state and runs the program. */
static inline void cn_r_run(const cn_r_program *prog, uint32_t r[9], uint64_t a_lo, uint64_t a_hi,
                            uint64_t b0_lo, uint64_t b1_lo, uint64_t b1_hi)
{
    r[4] = (uint32_t)a_lo;
    r[5] = (uint32_t)a_hi;
    r[6] = (uint32_t)b0_lo;
    r[7] = (uint32_t)b1_lo;
    r[8] = (uint32_t)b1_hi;
    const cn_r_pair out = cn_r_execute_packed(prog, (uint64_t)r[0] | ((uint64_t)r[1] << 32),
                                              (uint64_t)r[2] | ((uint64_t)r[3] << 32),
                                              (uint64_t)r[4] | ((uint64_t)r[5] << 32),
                                              (uint64_t)r[6] | ((uint64_t)r[7] << 32), r[8]);
    r[0] = (uint32_t)out.lo;
    r[1] = (uint32_t)(out.lo >> 32);
    r[2] = (uint32_t)out.hi;
    r[3] = (uint32_t)(out.hi >> 32);
}

/* XORed into a (low / high word) after the program ran, before the multiplication result is added. */
static inline uint64_t cn_r_a_lo_mix(const uint32_t r[9])
{
    return (uint64_t)r[2] | ((uint64_t)r[3] << 32);
}

static inline uint64_t cn_r_a_hi_mix(const uint32_t r[9])
{
    return (uint64_t)r[0] | ((uint64_t)r[1] << 32);
}

#endif
