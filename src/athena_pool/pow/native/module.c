/*
 * athena_pool.pow._cryptonight: the CPython binding of the CryptoNight extension.
 *
 * cn_slow_hash() checks every parameter and the input length with the GIL held (raising ValueError),
 * then hashes with the GIL released on a scratchpad owned by the calling thread: allocated once per
 * thread (2 MiB, 2 MiB-aligned, transparent huge pages requested), reused by every later call and freed
 * when the thread exits. The AES-NI / portable choice is made once, at import (cn_aes_init).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "aes.h"
#include "cn_hashes.h"

/* cryptonight.c: 1 when cn_r.c (the cn/r program generator and interpreter) is linked in. */

#define CN_MIN_MEMORY 65536ULL
#define CN_MAX_MEMORY 2097152ULL
#define CN_TWEAK_INPUT_BYTES 43
#define CN_PAD_ALIGN ((size_t)2 * 1024 * 1024) /* one transparent huge page */
#define CN_RELEASE_GIL_BYTES 8192              /* fast hashes of shorter inputs keep the GIL */

/* Per-thread scratchpad ------------------------------------------------------------------------ */

static _Thread_local uint8_t *tl_pad = NULL;
static _Thread_local size_t tl_pad_size = 0;
static pthread_key_t pad_key;
static int pad_key_ok = 0;
static pthread_once_t pad_key_once = PTHREAD_ONCE_INIT;

static void pad_destroy(void *pad)
{
    free(pad); /* thread exit: the _Thread_local copies die with the thread */
}

static void pad_key_create(void)
{
    pad_key_ok = pthread_key_create(&pad_key, pad_destroy) == 0;
}

/* The calling thread's scratchpad of at least `memory` bytes, or NULL when allocation fails. */
static uint8_t *thread_scratchpad(size_t memory)
{
    if (tl_pad != NULL && tl_pad_size >= memory) {
        return tl_pad;
    }
    const size_t size = (memory + CN_PAD_ALIGN - 1) & ~(CN_PAD_ALIGN - 1);
    uint8_t *pad = aligned_alloc(CN_PAD_ALIGN, size);
    if (pad == NULL) {
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(pad, size, MADV_HUGEPAGE); /* a hint: fewer TLB misses in the random-access loop */
#endif
    pthread_once(&pad_key_once, pad_key_create);
    if (pad_key_ok && pthread_setspecific(pad_key, pad) != 0) {
        free(pad);
        return NULL;
    }
    free(tl_pad);
    tl_pad = pad;
    tl_pad_size = size;
    return pad;
}

/* Argument helpers ------------------------------------------------------------------------------- */

/* Converts a Python int in [0, 2^64) to uint64_t; TypeError for non-ints, ValueError when out of range. */
static int arg_u64(PyObject *obj, const char *name, uint64_t *out)
{
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow < 0 || (overflow == 0 && v < 0)) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0, got %R", name, obj);
        return -1;
    }
    if (overflow > 0) {
        const unsigned long long u = PyLong_AsUnsignedLongLong(obj);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s must be < 2**64, got %R", name, obj);
            return -1;
        }
        *out = (uint64_t)u;
        return 0;
    }
    *out = (uint64_t)v;
    return 0;
}

/* The parameter checks of cn_slow_hash (cryptonight.c), with messages. Returns -1 with ValueError set. */
static int check_params(uint64_t memory, uint64_t iterations, uint64_t mask, uint64_t variant)
{
    if (variant > 2 && variant != 4) {
        PyErr_Format(PyExc_ValueError, "variant must be 0, 1, 2 or 4, got %llu", (unsigned long long)variant);
        return -1;
    }
    if (memory < CN_MIN_MEMORY || memory > CN_MAX_MEMORY || (memory & (memory - 1)) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "memory must be a power of two from 65536 to 2097152 bytes, got %llu",
                     (unsigned long long)memory);
        return -1;
    }
    if (iterations == 0 || (iterations & 1) != 0 || iterations > 0xFFFFFFFEULL) {
        PyErr_Format(PyExc_ValueError,
                     "iterations must be a positive even number below 2**32 (the loop runs iterations / 2 "
                     "times), got %llu",
                     (unsigned long long)iterations);
        return -1;
    }
    if (mask >= memory || (mask & 0xf) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "mask must be a multiple of 16 smaller than memory (%llu), got 0x%llx",
                     (unsigned long long)memory, (unsigned long long)mask);
        return -1;
    }
    return 0;
}

/* Functions ------------------------------------------------------------------------------------- */

PyDoc_STRVAR(cn_slow_hash_doc,
             "cn_slow_hash($module, /, data, memory, iterations, mask, variant, height=0)\n"
             "--\n"
             "\n"
             "CryptoNight hash of a bytes-like `data` (32 bytes).\n"
             "\n"
             "memory: scratchpad bytes (power of two, 64 KiB .. 2 MiB); iterations: Monero's ITER (even;\n"
             "the main loop runs iterations / 2 times); mask: scratchpad address mask (multiple of 16,\n"
             "< memory); variant: 0, 1, 2, or 4 (cn/r); height: the block height,\n"
             "used by cn/r only.\n"
             "cn/0,1,2: 2097152, 1048576, 0x1FFFF0; cn-lite/0,1: 1048576, 524288, 0xFFFF0;\n"
             "cn-pico/trtl: 262144, 131072, 0x1FFF0, variant 2; cn/r: as cn/2 with variant 4.\n"
             "Variants 1 and 2 need at least 43 bytes of input. Raises ValueError for bad parameters or\n"
             "short input. The GIL is released while hashing.");

static PyObject *py_cn_slow_hash(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "memory", "iterations", "mask", "variant", "height", NULL};
    Py_buffer view;
    PyObject *memory_obj, *iterations_obj, *mask_obj, *variant_obj, *height_obj = NULL;
    uint64_t memory, iterations, mask, variant, height = 0;
    uint8_t out[32];
    int rc;
    (void)module;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*OOOO|O:cn_slow_hash", kwlist, &view, &memory_obj,
                                     &iterations_obj, &mask_obj, &variant_obj, &height_obj)) {
        return NULL;
    }
    if (arg_u64(memory_obj, "memory", &memory) < 0 || arg_u64(iterations_obj, "iterations", &iterations) < 0 ||
        arg_u64(mask_obj, "mask", &mask) < 0 || arg_u64(variant_obj, "variant", &variant) < 0 ||
        (height_obj != NULL && arg_u64(height_obj, "height", &height) < 0) ||
        check_params(memory, iterations, mask, variant) < 0) {
        goto fail;
    }
    if ((variant == 1 || variant == 2) && view.len < CN_TWEAK_INPUT_BYTES) {
        PyErr_Format(PyExc_ValueError, "variant %llu needs at least %d bytes of input, got %zd",
                     (unsigned long long)variant, CN_TWEAK_INPUT_BYTES, view.len);
        goto fail;
    }

    uint8_t *pad = thread_scratchpad((size_t)memory);
    if (pad == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    const cn_params params = {
        .memory = (size_t)memory,
        .iterations = (uint32_t)iterations,
        .mask = (uint32_t)mask,
        .variant = (int)variant,
    };
    Py_BEGIN_ALLOW_THREADS
    rc = cn_slow_hash((const uint8_t *)view.buf, (size_t)view.len, out, &params, height, pad);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != 0) {
        /* Unreachable: the checks above mirror those of cn_slow_hash. */
        PyErr_SetString(PyExc_ValueError, "cn_slow_hash rejected its parameters");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)out, sizeof(out));

fail:
    PyBuffer_Release(&view);
    return NULL;
}

typedef void (*digest32_fn)(const uint8_t *data, size_t len, uint8_t out[32]);

/* Runs a one-shot hash over any C-contiguous buffer; releases the GIL for long inputs. */
static PyObject *digest_buffer(PyObject *arg, digest32_fn fn, size_t out_len)
{
    Py_buffer view;
    uint8_t out[32];
    uint8_t state[200];

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const uint8_t *data = (const uint8_t *)view.buf;
    const size_t len = (size_t)view.len;
    if (len >= CN_RELEASE_GIL_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        if (fn != NULL) {
            fn(data, len, out);
        } else {
            cn_keccak1600(data, len, state);
        }
        Py_END_ALLOW_THREADS
    } else if (fn != NULL) {
        fn(data, len, out);
    } else {
        cn_keccak1600(data, len, state);
    }
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize(fn != NULL ? (const char *)out : (const char *)state, (Py_ssize_t)out_len);
}

PyDoc_STRVAR(fast_hash_doc, "fast_hash($module, data, /)\n--\n\ncn_fast_hash: Keccak-256 (original Keccak "
                            "padding, not SHA3-256) of a bytes-like object; 32 bytes.");
static PyObject *py_fast_hash(PyObject *module, PyObject *arg)
{
    (void)module;
    return digest_buffer(arg, cn_fast_hash, 32);
}

/* A link of hash_chain: a bytes object (PyBytes only: the chain is built once per template, called per job). */
static int chain_part(PyObject *obj, const char **data, size_t *len)
{
    if (!PyBytes_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "hash_chain: every head and tail must be bytes");
        return -1;
    }
    *data = PyBytes_AS_STRING(obj);
    *len = (size_t)PyBytes_GET_SIZE(obj);
    return 0;
}

PyDoc_STRVAR(hash_chain_doc, "hash_chain($module, value, links, /)\n--\n\nFor each (head, tail) in the tuple "
                             "links: value = fast_hash(head + value + tail); the last value (32 bytes). A job's "
                             "merkle root and parent-block hashes in one call instead of one per level.");
static PyObject *py_hash_chain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyTuple_Check(args[1]) || PyTuple_GET_SIZE(args[1]) == 0) {
        PyErr_SetString(PyExc_TypeError, "hash_chain(value, links): links is a non-empty tuple of (head, tail)");
        return NULL;
    }
    Py_buffer first;
    if (PyObject_GetBuffer(args[0], &first, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint8_t value[32];
    const uint8_t *current = (const uint8_t *)first.buf;
    size_t current_len = (size_t)first.len;
    uint8_t stack_buffer[2048];
    uint8_t *buffer = stack_buffer;
    size_t capacity = sizeof(stack_buffer);
    int failed = 0;
    PyObject *links = args[1];
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(links) && !failed; i++) {
        PyObject *link = PyTuple_GET_ITEM(links, i);
        const char *head, *tail;
        size_t head_len, tail_len;
        if (!PyTuple_Check(link) || PyTuple_GET_SIZE(link) != 2) {
            PyErr_SetString(PyExc_TypeError, "hash_chain: every link is a (head, tail) tuple");
            failed = 1;
            break;
        }
        if (chain_part(PyTuple_GET_ITEM(link, 0), &head, &head_len) < 0 ||
            chain_part(PyTuple_GET_ITEM(link, 1), &tail, &tail_len) < 0) {
            failed = 1;
            break;
        }
        const size_t need = head_len + current_len + tail_len;
        if (need > capacity) {
            uint8_t *larger = PyMem_Malloc(need);
            if (larger == NULL) {
                PyErr_NoMemory();
                failed = 1;
                break;
            }
            if (buffer != stack_buffer) {
                PyMem_Free(buffer);
            }
            buffer = larger;
            capacity = need;
        }
        memcpy(buffer, head, head_len);
        memcpy(buffer + head_len, current, current_len);
        memcpy(buffer + head_len + current_len, tail, tail_len);
        cn_fast_hash(buffer, need, value);
        current = value;
        current_len = sizeof(value);
    }
    if (buffer != stack_buffer) {
        PyMem_Free(buffer);
    }
    PyBuffer_Release(&first);
    return failed ? NULL : PyBytes_FromStringAndSize((const char *)value, (Py_ssize_t)sizeof(value));
}

PyDoc_STRVAR(keccak1600_doc, "keccak1600($module, data, /)\n--\n\nThe whole 200-byte Keccak state (rate 136, "
                             "original padding) after absorbing a bytes-like object.");
static PyObject *py_keccak1600(PyObject *module, PyObject *arg)
{
    (void)module;
    return digest_buffer(arg, NULL, 200);
}

PyDoc_STRVAR(blake256_doc, "blake256($module, data, /)\n--\n\nBLAKE-256 (SHA-3 round 3, 14 rounds); 32 bytes.");
static PyObject *py_blake256(PyObject *module, PyObject *arg)
{
    (void)module;
    return digest_buffer(arg, cn_blake256, 32);
}

PyDoc_STRVAR(groestl256_doc, "groestl256($module, data, /)\n--\n\nGroestl-256; 32 bytes.");
static PyObject *py_groestl256(PyObject *module, PyObject *arg)
{
    (void)module;
    return digest_buffer(arg, cn_groestl256, 32);
}

PyDoc_STRVAR(jh256_doc, "jh256($module, data, /)\n--\n\nJH-256 (round 3, 42 rounds); 32 bytes.");
static PyObject *py_jh256(PyObject *module, PyObject *arg)
{
    (void)module;
    return digest_buffer(arg, cn_jh256, 32);
}

PyDoc_STRVAR(skein512_256_doc, "skein512_256($module, data, /)\n--\n\nSkein-512 with a 256-bit output; 32 bytes.");
static PyObject *py_skein512_256(PyObject *module, PyObject *arg)
{
    (void)module;
    return digest_buffer(arg, cn_skein512_256, 32);
}

PyDoc_STRVAR(aes_ni_doc, "aes_ni($module, /)\n--\n\nTrue when the AES-NI code path is in use (the CPU has AES-NI and "
                         "ATHENA_POOL_NO_AESNI was not set at import).");
static PyObject *py_aes_ni(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyBool_FromLong(cn_aes_use_ni());
}

static PyMethodDef cn_methods[] = {
    {"cn_slow_hash", (PyCFunction)(void (*)(void))py_cn_slow_hash, METH_VARARGS | METH_KEYWORDS, cn_slow_hash_doc},
    {"fast_hash", py_fast_hash, METH_O, fast_hash_doc},
    {"hash_chain", (PyCFunction)(void (*)(void))py_hash_chain, METH_FASTCALL, hash_chain_doc},
    {"keccak1600", py_keccak1600, METH_O, keccak1600_doc},
    {"blake256", py_blake256, METH_O, blake256_doc},
    {"groestl256", py_groestl256, METH_O, groestl256_doc},
    {"jh256", py_jh256, METH_O, jh256_doc},
    {"skein512_256", py_skein512_256, METH_O, skein512_256_doc},
    {"aes_ni", py_aes_ni, METH_NOARGS, aes_ni_doc},
    {NULL, NULL, 0, NULL},
};

static int cn_exec(PyObject *module)
{
    cn_aes_init(); /* tables and the AES-NI choice, once per process */
    if (PyModule_AddIntConstant(module, "MIN_MEMORY", (long)CN_MIN_MEMORY) < 0 ||
        PyModule_AddIntConstant(module, "MAX_MEMORY", (long)CN_MAX_MEMORY) < 0 ||
        PyModule_AddIntConstant(module, "TWEAK_MIN_INPUT", CN_TWEAK_INPUT_BYTES) < 0 ||
        PyModule_AddObjectRef(module, "HAVE_CN_R", Py_True) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot cn_slots[] = {
    {Py_mod_exec, (void *)cn_exec},
    {0, NULL},
};

PyDoc_STRVAR(module_doc, "CryptoNight (variants 0, 1, 2 and 4 = cn/r; cn, cn-lite and cn-pico "
                         "parameters), Keccak and the four CryptoNight final hashes, in C.");

static struct PyModuleDef cn_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "athena_pool.pow._cryptonight",
    .m_doc = module_doc,
    .m_size = 0,
    .m_methods = cn_methods,
    .m_slots = cn_slots,
};

PyMODINIT_FUNC PyInit__cryptonight(void)
{
    return PyModuleDef_Init(&cn_module);
}
