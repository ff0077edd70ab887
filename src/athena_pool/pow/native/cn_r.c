/*
 * CryptonightR random math: program generator and interpreter (see cn_r.h for the interface and for how
 * the main loop uses it).
 *
 * Generator, as described for CryptonightR:
 *   - Random bytes: a 32-byte block holding the height (64-bit little-endian in bytes 0..7), zeros, and
 *     byte 20 = 0xDA; whenever the next read would run past its end, the block is replaced by its own
 *     BLAKE-256 hash and reading restarts at byte 0 (so the very first read hashes it once).
 *   - One byte per candidate instruction: bits 0..2 pick the operation (0-2 MUL, 3 ADD, 4 SUB, 5 rotation,
 *     6-7 XOR; a rotation takes one more byte, < 0x80 as a signed byte = ROR, else ROL), bits 3..4 the
 *     destination r0..r3, bits 5..7 the source r0..r7. ADD takes 4 more bytes (little-endian constant).
 *   - Rejection rules: ADD/SUB/XOR of a register with itself use r8 as the source instead; no rotation of
 *     a register whose last operation was a rotation; no repeat (except MUL) of the same operation on the
 *     same destination with the same source value as its previous operation.
 *   - Scheduling model: latencies MUL 3, ADD 2, SUB 1, ROR/ROL 2, XOR 1 on 3 ALUs (only ALU 0 multiplies;
 *     ADD holds its ALU for two cycles; a rotation can only start after the previous rotations finished);
 *     an instruction starts at the first cycle where its operands are ready and an ALU is free, highest
 *     ALU first; rejected when it would leave its destination idle for more than 7 cycles; counted as a
 *     retry when it would end past cycle 45. Generation stops at 60 instructions, when r0..r3 all reach
 *     45 cycles, after 64 retries or 256 candidates.
 *   - Then, while fewer than 70 instructions and every register has an ideal-ASIC latency (MUL 3, all
 *     else 1, unlimited ALUs) under 45: append ROR, MUL, MUL, ... from the register with the highest ASIC
 *     latency into the one with the lowest.
 *   - The whole attempt is repeated (continuing the byte stream) when r8 is never a source or the size is
 *     outside 60..70.
 */
#include <string.h>

#include "cn_hashes.h"
#include "cn_r.h"

/* Interpreter ---------------------------------------------------------------------------------------
 *
 * Every (operation, destination, source) triple has its own handler (6 * 4 * 9 = 216, plus RET) working on
 * r0..r8 held in local variables, so one step is one ALU operation and one indirect jump. The registers go
 * in and out packed in 64-bit arguments and return values, i.e. in CPU registers, not through memory.
 *
 * With GCC/Clang the program is direct-threaded: cn_r_generate stores each handler's address (taken with
 * the labels-as-values extension) in prog->run, and a step ends with "goto *next->entry". The program sits
 * on the main loop's critical path. Measured in the full cn/r hash on the reference VM (one core, AES-NI):
 * indexing a handler table 33 H/s, direct threading 40 H/s, plus registers in CPU registers 46-48 H/s; a
 * Monero-style unrolled switch on the operation with registers in an array, 13 H/s. Other compilers (or
 * -DCN_R_SWITCH_INTERPRETER) use a switch on the handler number (about 20 H/s).
 *
 * Label addresses are only valid inside the function that defines them and may differ between inlined or
 * cloned copies of it, hence noinline/noclone on cn_r_interpret: cn_r_generate asks that one function for
 * its table and every program run jumps only inside it.
 */

#define CN_R_HANDLERS 216 /* RET is handler 216 */

static uint8_t cn_r_slot(int op, int dst, int src)
{
    return op == CN_R_RET ? (uint8_t)CN_R_HANDLERS : (uint8_t)(op * 36 + dst * 9 + src);
}

static inline uint32_t cn_r_rotr(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x >> n) | (x << ((32 - n) & 31));
}

static inline uint32_t cn_r_rotl(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x << n) | (x >> ((32 - n) & 31));
}

/* X(op, d, s) for every handler, in handler-number order. */
#define CN_R_SRCS(X, op, d) X(op, d, 0) X(op, d, 1) X(op, d, 2) X(op, d, 3) X(op, d, 4) \
                            X(op, d, 5) X(op, d, 6) X(op, d, 7) X(op, d, 8)
#define CN_R_DSTS(X, op) CN_R_SRCS(X, op, 0) CN_R_SRCS(X, op, 1) CN_R_SRCS(X, op, 2) CN_R_SRCS(X, op, 3)
#define CN_R_ALL(X) CN_R_DSTS(X, MUL) CN_R_DSTS(X, ADD) CN_R_DSTS(X, SUB) CN_R_DSTS(X, ROR) \
                    CN_R_DSTS(X, ROL) CN_R_DSTS(X, XOR)

/* The operations on local registers; `c` is the current instruction's ADD constant. */
#define CN_R_OP_MUL(d, s, c) d *= s
#define CN_R_OP_ADD(d, s, c) d += s + (c)
#define CN_R_OP_SUB(d, s, c) d -= s
#define CN_R_OP_ROR(d, s, c) d = cn_r_rotr(d, s)
#define CN_R_OP_ROL(d, s, c) d = cn_r_rotl(d, s)
#define CN_R_OP_XOR(d, s, c) d ^= s

/* Unpacking / packing of the register arguments (names as in cn_r_execute_packed). */
#define CN_R_UNPACK()                                                                     \
    uint32_t r0 = (uint32_t)r01, r1 = (uint32_t)(r01 >> 32);                              \
    uint32_t r2 = (uint32_t)r23, r3 = (uint32_t)(r23 >> 32);                              \
    const uint32_t r4 = (uint32_t)r45, r5 = (uint32_t)(r45 >> 32);                        \
    const uint32_t r6 = (uint32_t)r67, r7 = (uint32_t)(r67 >> 32), r8 = (uint32_t)r8_
#define CN_R_PACKED_RESULT()                                                              \
    (void)r4, (void)r5, (void)r6, (void)r7, (void)r8;                                     \
    const cn_r_pair out_ = {(uint64_t)r0 | ((uint64_t)r1 << 32), (uint64_t)r2 | ((uint64_t)r3 << 32)}; \
    return out_

#if (defined(__GNUC__) || defined(__clang__)) && !defined(CN_R_SWITCH_INTERPRETER)

#if defined(__clang__)
#define CN_R_ONE_COPY __attribute__((noinline))
#else
#define CN_R_ONE_COPY __attribute__((noinline, noclone))
#endif

/* Runs `step` on the registers. With step == NULL it only returns the handler table, in .lo. */
static CN_R_ONE_COPY cn_r_pair cn_r_interpret(const cn_r_step *step, uint64_t r01, uint64_t r23,
                                              uint64_t r45, uint64_t r67, uint64_t r8_)
{
#define CN_R_ADDRESS(op, d, s) &&cn_r_h_##op##_##d##_##s,
    static const void *const handlers[CN_R_HANDLERS + 1] = {CN_R_ALL(CN_R_ADDRESS) && cn_r_h_ret};
#undef CN_R_ADDRESS
    if (step == NULL) {
        const cn_r_pair table = {(uint64_t)(uintptr_t)handlers, 0};
        return table;
    }

    CN_R_UNPACK();
#define CN_R_HANDLER(op, d, s)                 \
    cn_r_h_##op##_##d##_##s:                   \
    CN_R_OP_##op(r##d, r##s, step->c);         \
    step++;                                    \
    goto *step->entry;
    goto *step->entry;
    CN_R_ALL(CN_R_HANDLER)
#undef CN_R_HANDLER
cn_r_h_ret:
    CN_R_PACKED_RESULT();
}

/* Fills prog->run from prog->code. */
static void cn_r_link(cn_r_program *prog)
{
    const void *const *table = (const void *const *)(uintptr_t)cn_r_interpret(NULL, 0, 0, 0, 0, 0).lo;
    for (uint32_t i = 0; i <= prog->size; i++) {
        prog->run[i].entry = table[prog->code[i].slot];
        prog->run[i].c = prog->code[i].c;
    }
}

cn_r_pair cn_r_execute_packed(const cn_r_program *prog, uint64_t r01, uint64_t r23, uint64_t r45,
                              uint64_t r67, uint64_t r8_)
{
    return cn_r_interpret(prog->run, r01, r23, r45, r67, r8_);
}

#else /* switch interpreter */

static void cn_r_link(cn_r_program *prog)
{
    for (uint32_t i = 0; i <= prog->size; i++) {
        prog->run[i].entry = NULL;
        prog->run[i].c = prog->code[i].c;
    }
}

cn_r_pair cn_r_execute_packed(const cn_r_program *prog, uint64_t r01, uint64_t r23, uint64_t r45,
                              uint64_t r67, uint64_t r8_)
{
    CN_R_UNPACK();
    for (const cn_r_instruction *ins = prog->code;; ins++) {
        switch (ins->slot) {
#define CN_R_CASE(op, d, s)                 \
        case CN_R_##op * 36 + d * 9 + s:    \
            CN_R_OP_##op(r##d, r##s, ins->c); \
            continue;
            CN_R_ALL(CN_R_CASE)
#undef CN_R_CASE
        default:
            break;
        }
        break;
    }
    CN_R_PACKED_RESULT();
}

#endif

void cn_r_execute(const cn_r_program *prog, uint32_t r[9])
{
    const cn_r_pair out = cn_r_execute_packed(prog, (uint64_t)r[0] | ((uint64_t)r[1] << 32),
                                              (uint64_t)r[2] | ((uint64_t)r[3] << 32),
                                              (uint64_t)r[4] | ((uint64_t)r[5] << 32),
                                              (uint64_t)r[6] | ((uint64_t)r[7] << 32), r[8]);
    r[0] = (uint32_t)out.lo;
    r[1] = (uint32_t)(out.lo >> 32);
    r[2] = (uint32_t)out.hi;
    r[3] = (uint32_t)(out.hi >> 32);
}

/* Generator -------------------------------------------------------------------------------------------- */

#define CN_R_TOTAL_LATENCY 45
#define CN_R_ALU_COUNT 3
#define CN_R_ALU_COUNT_MUL 1
#define CN_R_MAX_CANDIDATES 256
#define CN_R_MAX_RETRIES 64
#define CN_R_MAX_IDLE 7

/* Latencies of the CPU model and of the ideal ASIC, and the ALUs able to run each operation. */
static const int cn_r_cpu_latency[6] = {3, 2, 1, 2, 2, 1};
static const int cn_r_asic_latency[6] = {3, 1, 1, 1, 1, 1};
static const int cn_r_alus[6] = {CN_R_ALU_COUNT_MUL, CN_R_ALU_COUNT, CN_R_ALU_COUNT,
                                 CN_R_ALU_COUNT, CN_R_ALU_COUNT, CN_R_ALU_COUNT};

typedef struct {
    uint8_t block[32];
    unsigned pos;
} cn_r_stream;

/* Makes sure `n` bytes can be read, rehashing the block when they cannot. */
static void cn_r_need(cn_r_stream *s, unsigned n)
{
    if (s->pos + n > sizeof(s->block)) {
        uint8_t next[32];
        cn_blake256(s->block, sizeof(s->block), next);
        memcpy(s->block, next, sizeof(next));
        s->pos = 0;
    }
}

static uint8_t cn_r_byte(cn_r_stream *s)
{
    cn_r_need(s, 1);
    return s->block[s->pos++];
}

static uint32_t cn_r_word(cn_r_stream *s)
{
    cn_r_need(s, 4);
    const uint8_t *p = s->block + s->pos;
    s->pos += 4;
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int cn_r_is_rotation(int op)
{
    return op == CN_R_ROR || op == CN_R_ROL;
}

static int cn_r_max(int x, int y)
{
    return x > y ? x : y;
}

/* One attempt; returns the number of instructions written to prog->code and sets *uses_r8. */
static uint32_t cn_r_attempt(cn_r_stream *s, cn_r_program *prog, int *uses_r8)
{
    int latency[9] = {0};
    int asic[9] = {0};
    /* Per register: bits 0..7 = index of the instruction that last wrote it (a unique value for r0..r3
     * before any write, one shared value for the constant r4..r8), bits 8..15 = its operation, bits 16..23
     * = the low byte of the same field of its source then. */
    uint32_t last[9] = {0, 1, 2, 3, 0xFFFFFF, 0xFFFFFF, 0xFFFFFF, 0xFFFFFF, 0xFFFFFF};
    uint8_t busy[CN_R_TOTAL_LATENCY + 1][CN_R_ALU_COUNT];
    int rotated[4] = {0};
    int rotations = 0;
    int retries = 0;
    int candidates = 0;
    uint32_t n = 0;

    memset(busy, 0, sizeof(busy));
    *uses_r8 = 0;

    while ((latency[0] < CN_R_TOTAL_LATENCY || latency[1] < CN_R_TOTAL_LATENCY ||
            latency[2] < CN_R_TOTAL_LATENCY || latency[3] < CN_R_TOTAL_LATENCY) &&
           retries < CN_R_MAX_RETRIES) {
        if (++candidates > CN_R_MAX_CANDIDATES) {
            break;
        }

        const uint8_t byte = cn_r_byte(s);
        int op = byte & 7;
        if (op == 5) {
            op = cn_r_byte(s) < 0x80 ? CN_R_ROR : CN_R_ROL;
        } else if (op >= 6) {
            op = CN_R_XOR;
        } else if (op <= 2) {
            op = CN_R_MUL;
        } else {
            op -= 2; /* 3 -> ADD, 4 -> SUB */
        }
        const int dst = (byte >> 3) & 3;
        int src = (byte >> 5) & 7;

        if ((op == CN_R_ADD || op == CN_R_SUB || op == CN_R_XOR) && src == dst) {
            src = 8;
        }
        if (cn_r_is_rotation(op) && rotated[dst]) {
            continue;
        }
        if (op != CN_R_MUL &&
            (last[dst] & 0xFFFF00u) == (((uint32_t)op << 8) + ((last[src] & 0xFFu) << 16))) {
            continue;
        }

        /* Earliest cycle with the operands ready and a suitable ALU free. */
        int start = cn_r_max(latency[dst], latency[src]);
        int alu = -1;
        for (; start < CN_R_TOTAL_LATENCY; start++) {
            for (int i = cn_r_alus[op] - 1; i >= 0; i--) {
                if (busy[start][i]) {
                    continue;
                }
                if (op == CN_R_ADD && busy[start + 1][i]) {
                    continue;
                }
                if (cn_r_is_rotation(op) && start < rotations * cn_r_cpu_latency[op]) {
                    continue;
                }
                alu = i;
                break;
            }
            if (alu >= 0) {
                break;
            }
        }

        if (start > latency[dst] + CN_R_MAX_IDLE) {
            continue;
        }
        const int end = start + cn_r_cpu_latency[op];
        if (end > CN_R_TOTAL_LATENCY) {
            retries++;
            continue;
        }

        if (cn_r_is_rotation(op)) {
            rotations++;
        }
        busy[start][alu] = 1;
        if (op == CN_R_ADD) {
            busy[start + 1][alu] = 1;
        }
        latency[dst] = end;
        asic[dst] = cn_r_max(asic[dst], asic[src]) + cn_r_asic_latency[op];
        rotated[dst] = cn_r_is_rotation(op);
        last[dst] = n + ((uint32_t)op << 8) + ((last[src] & 0xFFu) << 16);

        cn_r_instruction *ins = &prog->code[n];
        ins->opcode = (uint8_t)op;
        ins->dst = (uint8_t)dst;
        ins->src = (uint8_t)src;
        ins->slot = cn_r_slot(op, dst, src);
        ins->c = op == CN_R_ADD ? cn_r_word(s) : 0;
        if (src == 8) {
            *uses_r8 = 1;
        }
        if (++n >= CN_R_INSTRUCTIONS_MIN) {
            break;
        }
    }

    /* Padding so that an ideal ASIC also needs the full latency on at least one register. */
    static const uint8_t pattern[3] = {CN_R_ROR, CN_R_MUL, CN_R_MUL};
    const uint32_t first_pad = n;
    while (n < CN_R_INSTRUCTIONS_MAX && asic[0] < CN_R_TOTAL_LATENCY && asic[1] < CN_R_TOTAL_LATENCY &&
           asic[2] < CN_R_TOTAL_LATENCY && asic[3] < CN_R_TOTAL_LATENCY) {
        int lo = 0, hi = 0;
        for (int i = 1; i < 4; i++) {
            if (asic[i] < asic[lo]) {
                lo = i;
            }
            if (asic[i] > asic[hi]) {
                hi = i;
            }
        }
        const int op = pattern[(n - first_pad) % 3];
        latency[lo] = latency[hi] + cn_r_cpu_latency[op];
        asic[lo] = asic[hi] + cn_r_asic_latency[op];

        cn_r_instruction *ins = &prog->code[n];
        ins->opcode = (uint8_t)op;
        ins->dst = (uint8_t)lo;
        ins->src = (uint8_t)hi;
        ins->slot = cn_r_slot(op, lo, hi);
        ins->c = 0;
        n++;
    }
    return n;
}

void cn_r_generate(uint64_t height, cn_r_program *prog)
{
    cn_r_stream s;
    uint32_t n;
    int uses_r8;

    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 8; i++) {
        s.block[i] = (uint8_t)(height >> (8 * i));
    }
    s.block[20] = 0xDA;
    s.pos = sizeof(s.block); /* hash before the first read */

    do {
        n = cn_r_attempt(&s, prog, &uses_r8);
    } while (!uses_r8 || n < CN_R_INSTRUCTIONS_MIN || n > CN_R_INSTRUCTIONS_MAX);

    prog->code[n].opcode = CN_R_RET;
    prog->code[n].dst = 0;
    prog->code[n].src = 0;
    prog->code[n].slot = cn_r_slot(CN_R_RET, 0, 0);
    prog->code[n].c = 0;
    prog->size = n;
    prog->height = height;
    cn_r_link(prog);
}

const cn_r_program *cn_r_program_cached(uint64_t height)
{
    static _Thread_local cn_r_program cache;
    static _Thread_local int valid;

    if (!valid || cache.height != height) {
        cn_r_generate(height, &cache);
        valid = 1;
    }
    return &cache;
}

