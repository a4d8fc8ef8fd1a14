/* The inner loops of kb.bitpack in C: packing and unpacking a stream (see kb/bitpack.py for the
 * layout), running sums of document deltas, the position decoding the exact-string search does
 * for every candidate document, the intersection of two sorted lists (document numbers, position
 * keys), and runs of values copied out in a new order (a segment's positions, when it is written).
 * kb/bitpack.py (and kb.termarrays.intersect_sorted, kb.writer.take_runs) does the same in
 * whole-array numpy steps, which is what runs when this module is not built; both give identical results
 * (tests/test_bitpack.py).
 *
 * Every argument is a buffer (numpy arrays, bytes, memoryviews); outputs are preallocated by the
 * caller. A value's bytes are bounds-checked against the data, so a damaged file raises
 * ValueError instead of reading outside the mapping. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Long loops run without the interpreter lock, so a merge's threads (kb.writer) decode and pack
 * on both cores; short ones keep it: handing the lock over costs more than they do, and a server
 * thread that gives it up may wait a switch interval to get it back. The buffers stay valid: the
 * views are held. */
#define LONG_LOOP 65536
#define LONG_LOOP_BEGIN(n) { PyThreadState *_save = (n) >= LONG_LOOP ? PyEval_SaveThread() : NULL;
#define LONG_LOOP_END(n) if (_save) PyEval_RestoreThread(_save); }

typedef struct {
    const uint8_t *data;
    Py_ssize_t len;
    const uint8_t *widths;
    Py_ssize_t nb; /* blocks */
    const uint32_t *blocks; /* nb + 1 entries */
} stream_t;

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* Value i of the stream into *out; -1 if i or the bytes it needs are outside the stream. */
static inline int value_at(const stream_t *s, int64_t i, uint64_t *out)
{
    int64_t b = i >> 7;
    if (i < 0 || b >= s->nb)
        return -1;
    unsigned w = s->widths[b];
    if (!w) {
        *out = 0;
        return 0;
    }
    if (w > 32)
        return -1;
    uint64_t bit = ((uint64_t)s->blocks[b] << 7) + (uint64_t)(i & 127) * w;
    uint64_t byte = bit >> 3;
    uint64_t x;
    if (byte + 8 <= (uint64_t)s->len) {
        x = load64(s->data + byte);
    } else {
        uint64_t need = ((bit & 7) + w + 7) >> 3;
        if (byte + need > (uint64_t)s->len)
            return -1;
        uint8_t tmp[8] = {0};
        memcpy(tmp, s->data + byte, (size_t)((uint64_t)s->len - byte));
        x = load64(tmp);
    }
    *out = (x >> (bit & 7)) & ((1ULL << w) - 1);
    return 0;
}

typedef struct {
    Py_buffer views[12]; /* the most any function holds: positions, 10 */
    int count;
} views_t;

static void release(views_t *v)
{
    for (int i = 0; i < v->count; i++)
        PyBuffer_Release(&v->views[i]);
    v->count = 0;
}

/* A buffer of items of ``itemsize`` bytes (writable if asked), kept in ``v`` until released. */
static Py_buffer *view(views_t *v, PyObject *obj, Py_ssize_t itemsize, int writable, const char *what)
{
    if (v->count >= (int)(sizeof v->views / sizeof v->views[0])) {
        PyErr_SetString(PyExc_RuntimeError, "kb.bitpack_c: too many buffers");
        return NULL;
    }
    Py_buffer *b = &v->views[v->count];
    if (PyObject_GetBuffer(obj, b, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return NULL;
    v->count++;
    if (b->len % itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes is not a whole number of %zd-byte items", what, b->len, itemsize);
        return NULL;
    }
    return b;
}

static int stream_from(views_t *v, PyObject *data, PyObject *widths, PyObject *blocks, stream_t *s)
{
    Py_buffer *d = view(v, data, 1, 0, "data"), *w, *b;
    if (!d || !(w = view(v, widths, 1, 0, "widths")) || !(b = view(v, blocks, 4, 0, "blocks")))
        return -1;
    s->data = d->buf;
    s->len = d->len;
    s->widths = w->buf;
    s->nb = w->len;
    s->blocks = b->buf;
    if (b->len / 4 < s->nb) {
        PyErr_SetString(PyExc_ValueError, "packed stream: fewer block starts than blocks");
        return -1;
    }
    return 0;
}

static PyObject *damaged(void)
{
    PyErr_SetString(PyExc_ValueError, "packed stream: a value lies outside the stream (damaged file?)");
    return NULL;
}

/* Values start .. start + n of a stream into out (uint64), or their running sums (int64). */
static PyObject *decode_range(PyObject *const *args, Py_ssize_t nargs, const char *usage, int running)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    views_t v = {.count = 0};
    stream_t s;
    int64_t start = PyLong_AsLongLong(args[3]);
    if (start == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer *o;
    if (stream_from(&v, args[0], args[1], args[2], &s) < 0 || !(o = view(&v, args[4], 8, 1, "out"))) {
        release(&v);
        return NULL;
    }
    uint64_t *out = o->buf, total = 0;
    Py_ssize_t n = o->len / 8;
    int bad = 0;
    LONG_LOOP_BEGIN(n)
    for (Py_ssize_t k = 0; k < n; k++) {
        uint64_t x;
        if (value_at(&s, start + k, &x) < 0) {
            bad = 1;
            break;
        }
        total += x; /* wraps like int64 addition; the caller reads out as int64 */
        out[k] = running ? total : x;
    }
    LONG_LOOP_END(n)
    release(&v);
    if (bad)
        return damaged();
    Py_RETURN_NONE;
}

/* unpack(data, widths, blocks, start, out_uint64[n]): values start .. start + n */
static PyObject *unpack(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return decode_range(args, nargs, "unpack(data, widths, blocks, start, out)", 0);
}

/* running_sum(data, widths, blocks, start, out_int64[n]): running sums of values start .. start + n
 * (document numbers from their deltas) */
static PyObject *running_sum(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return decode_range(args, nargs, "running_sum(data, widths, blocks, start, out)", 1);
}

/* take(data, widths, blocks, index_int64[n], out_uint64[n]): the values at ``index`` */
static PyObject *take(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "take(data, widths, blocks, index, out)");
        return NULL;
    }
    views_t v = {.count = 0};
    stream_t s;
    Py_buffer *ix, *o;
    if (stream_from(&v, args[0], args[1], args[2], &s) < 0 || !(ix = view(&v, args[3], 8, 0, "index"))
        || !(o = view(&v, args[4], 8, 1, "out"))) {
        release(&v);
        return NULL;
    }
    const int64_t *index = ix->buf;
    uint64_t *out = o->buf;
    Py_ssize_t n = ix->len / 8;
    if (o->len / 8 < n) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, "take: out is shorter than index");
        return NULL;
    }
    int bad = 0;
    LONG_LOOP_BEGIN(n)
    for (Py_ssize_t k = 0; k < n; k++) {
        if (value_at(&s, index[k], &out[k]) < 0) {
            bad = 1;
            break;
        }
    }
    LONG_LOOP_END(n)
    release(&v);
    if (bad)
        return damaged();
    Py_RETURN_NONE;
}

/* positions(firsts data, widths, blocks, gaps data, widths, blocks, rows_int64[n], counts_int64[n],
 *           gap_starts_int64[n], out_int64[sum(counts)]): the positions of postings ``rows``: each
 * row's first position (stream ``firsts`` at the row), then running sums of its counts - 1 gaps
 * (stream ``gaps`` from the row's gap start). Fills out in row order. */
static PyObject *positions(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError,
                        "positions(fdata, fwidths, fblocks, gdata, gwidths, gblocks, rows, counts, gap_starts, out)");
        return NULL;
    }
    views_t v = {.count = 0};
    stream_t firsts, gaps;
    Py_buffer *r, *c, *g, *o;
    if (stream_from(&v, args[0], args[1], args[2], &firsts) < 0) {
        release(&v);
        return NULL;
    }
    if (stream_from(&v, args[3], args[4], args[5], &gaps) < 0 || !(r = view(&v, args[6], 8, 0, "rows"))
        || !(c = view(&v, args[7], 8, 0, "counts")) || !(g = view(&v, args[8], 8, 0, "gap_starts"))
        || !(o = view(&v, args[9], 8, 1, "out"))) {
        release(&v);
        return NULL;
    }
    const int64_t *rows = r->buf, *counts = c->buf, *gap_starts = g->buf;
    int64_t *out = o->buf;
    Py_ssize_t n = r->len / 8, room = o->len / 8, at = 0;
    if (c->len / 8 < n || g->len / 8 < n) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, "positions: counts or gap_starts shorter than rows");
        return NULL;
    }
    int bad = 0;
    LONG_LOOP_BEGIN(room)
    for (Py_ssize_t k = 0; k < n && !bad; k++) {
        uint64_t x;
        int64_t count = counts[k];
        if (count < 1 || at + count > room || value_at(&firsts, rows[k], &x) < 0) {
            bad = 1;
            break;
        }
        int64_t pos = (int64_t)x;
        out[at++] = pos;
        for (int64_t j = 0; j < count - 1; j++) {
            if (value_at(&gaps, gap_starts[k] + j, &x) < 0) {
                bad = 1;
                break;
            }
            pos += (int64_t)x;
            out[at++] = pos;
        }
    }
    LONG_LOOP_END(room)
    release(&v);
    if (bad)
        return damaged();
    return PyLong_FromSsize_t(at);
}

/* pack(values_uint64[n], widths_out_uint8[nb], blocks_out_uint32[nb + 1]) -> bytes: the stream's
 * packed data; fills the widths and block starts (units of 16 bytes). n need not fill the last block
 * (it is padded with zeros). Values must be below 2**32. */
static PyObject *pack(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "pack(values, widths_out, blocks_out)");
        return NULL;
    }
    views_t v = {.count = 0};
    Py_buffer *in, *wo, *bo;
    if (!(in = view(&v, args[0], 8, 0, "values")) || !(wo = view(&v, args[1], 1, 1, "widths_out"))
        || !(bo = view(&v, args[2], 4, 1, "blocks_out"))) {
        release(&v);
        return NULL;
    }
    const uint64_t *values = in->buf;
    Py_ssize_t n = in->len / 8, nb = (n + 127) / 128;
    uint8_t *widths = wo->buf;
    uint32_t *blocks = bo->buf;
    if (wo->len < nb || bo->len / 4 < nb + 1) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, "pack: widths_out or blocks_out too short");
        return NULL;
    }
    uint64_t units = 0;
    const char *problem = NULL;
    blocks[0] = 0;
    LONG_LOOP_BEGIN(n)
    for (Py_ssize_t b = 0; b < nb; b++) {
        uint64_t top = 0;
        Py_ssize_t end = (b + 1) * 128 < n ? (b + 1) * 128 : n;
        for (Py_ssize_t i = b * 128; i < end; i++)
            top |= values[i];
        if (top >> 32) {
            problem = "pack: a value of 2**32 or more";
            break;
        }
        unsigned w = 0;
        while (top) {
            w++;
            top >>= 1;
        }
        widths[b] = (uint8_t)w;
        units += w;
        if (units >= (1ULL << 32)) {
            problem = "pack: a packed stream over 64 GB";
            break;
        }
        blocks[b + 1] = (uint32_t)units;
    }
    LONG_LOOP_END(n)
    if (problem) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, problem);
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(units * 16));
    if (!out) {
        release(&v);
        return NULL;
    }
    uint8_t *data = (uint8_t *)PyBytes_AS_STRING(out);
    LONG_LOOP_BEGIN(n)
    for (Py_ssize_t b = 0; b < nb; b++) {
        unsigned w = widths[b];
        uint8_t *at = data + (size_t)blocks[b] * 16;
        uint64_t acc = 0;
        unsigned held = 0;
        for (Py_ssize_t i = b * 128; i < (b + 1) * 128; i++) { /* least significant bit first */
            uint64_t x = i < n ? values[i] : 0;
            acc |= x << held;
            held += w;
            while (held >= 8) {
                *at++ = (uint8_t)acc;
                acc >>= 8;
                held -= 8;
            }
        }
        /* 128 values of w bits end on a byte boundary: nothing held */
    }
    LONG_LOOP_END(n)
    release(&v);
    return out;
}

/* intersect(a_int64[n], b_int64[m], out_int64[min(n, m)]) -> count: the values in both of two
 * ascending arrays of distinct values, ascending, in out[:count]. A merge when the two are of a
 * size; a binary search of each value of the short one in the rest of the long one when that is 16
 * or more times longer. (numpy's intersect1d sorts the two together: ~50 ms for the position keys
 * of a frequent string at 16x the laws.) */
static Py_ssize_t lower_bound(const int64_t *x, Py_ssize_t lo, Py_ssize_t hi, int64_t value)
{
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (x[mid] < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static PyObject *intersect(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "intersect(a, b, out)");
        return NULL;
    }
    views_t v = {.count = 0};
    Py_buffer *av, *bv, *ov;
    if (!(av = view(&v, args[0], 8, 0, "a")) || !(bv = view(&v, args[1], 8, 0, "b"))
        || !(ov = view(&v, args[2], 8, 1, "out"))) {
        release(&v);
        return NULL;
    }
    const int64_t *a = av->buf, *b = bv->buf;
    Py_ssize_t n = av->len / 8, m = bv->len / 8;
    if (n > m) {
        const int64_t *t = a;
        a = b;
        b = t;
        Py_ssize_t k = n;
        n = m;
        m = k;
    }
    if (ov->len / 8 < n) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, "intersect: out is shorter than the shorter input");
        return NULL;
    }
    int64_t *out = ov->buf;
    Py_ssize_t count = 0;
    LONG_LOOP_BEGIN(n + m)
    if (m / 16 >= n) {
        Py_ssize_t j = 0;
        for (Py_ssize_t i = 0; i < n && j < m; i++) {
            j = lower_bound(b, j, m, a[i]);
            if (j < m && b[j] == a[i])
                out[count++] = a[i];
        }
    } else {
        Py_ssize_t i = 0, j = 0;
        while (i < n && j < m) {
            int64_t x = a[i], y = b[j];
            if (x == y) {
                out[count++] = x;
                i++;
                j++;
            } else if (x < y) {
                i++;
            } else {
                j++;
            }
        }
    }
    LONG_LOOP_END(n + m)
    release(&v);
    return PyLong_FromSsize_t(count);
}

/* take_runs(src, starts, counts, out, src_width, out_width): out gets src[starts[i] : starts[i] +
 * counts[i]] for every i, in order (a segment's positions regrouped in (term, document) order).
 * src_width, out_width: 4 (uint32) or 8 (int64) bytes a value; 4 -> 8 widens. The same as
 * src[np.repeat(starts - (cumsum(counts) - counts), counts) + arange(total)], without the index
 * array. Every run is checked to lie inside src, and the runs to fill out exactly. */
static PyObject *take_runs(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "take_runs(src, starts, counts, out, src_width, out_width)");
        return NULL;
    }
    long sw = PyLong_AsLong(args[4]), ow = PyLong_AsLong(args[5]);
    if (PyErr_Occurred())
        return NULL;
    if ((sw != 4 && sw != 8) || (ow != 4 && ow != 8) || ow < sw) {
        PyErr_SetString(PyExc_ValueError, "take_runs: widths are 4 or 8, and out is at least as wide as src");
        return NULL;
    }
    views_t v = {.count = 0};
    Py_buffer *srcv, *sv, *cv, *ov;
    if (!(srcv = view(&v, args[0], sw, 0, "src")) || !(sv = view(&v, args[1], 8, 0, "starts"))
        || !(cv = view(&v, args[2], 8, 0, "counts")) || !(ov = view(&v, args[3], ow, 1, "out"))) {
        release(&v);
        return NULL;
    }
    const int64_t *starts = sv->buf, *counts = cv->buf;
    Py_ssize_t runs = sv->len / 8, have = srcv->len / sw, room = ov->len / ow;
    if (cv->len / 8 != runs) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, "take_runs: starts and counts differ in length");
        return NULL;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < runs; i++) {
        if (counts[i] < 0 || starts[i] < 0 || starts[i] > have - counts[i]) {
            release(&v);
            PyErr_SetString(PyExc_ValueError, "take_runs: a run lies outside src");
            return NULL;
        }
        total += counts[i];
    }
    if (total != room) {
        release(&v);
        PyErr_SetString(PyExc_ValueError, "take_runs: out does not hold exactly the runs");
        return NULL;
    }
    char *out = ov->buf;
    const char *src = srcv->buf;
    LONG_LOOP_BEGIN(total)
    if (sw == ow) {
        for (Py_ssize_t i = 0; i < runs; i++) {
            memcpy(out, src + starts[i] * sw, (size_t)counts[i] * sw);
            out += counts[i] * sw;
        }
    } else {
        const uint32_t *narrow = (const uint32_t *)src;
        int64_t *wide = (int64_t *)out;
        for (Py_ssize_t i = 0; i < runs; i++) {
            const uint32_t *from = narrow + starts[i];
            for (int64_t k = 0; k < counts[i]; k++)
                *wide++ = from[k];
        }
    }
    LONG_LOOP_END(total)
    release(&v);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"pack", (PyCFunction)(void (*)(void))pack, METH_FASTCALL, "a stream's widths, block starts and data"},
    {"unpack", (PyCFunction)(void (*)(void))unpack, METH_FASTCALL, "values start .. start + len(out)"},
    {"running_sum", (PyCFunction)(void (*)(void))running_sum, METH_FASTCALL, "running sums of values"},
    {"take", (PyCFunction)(void (*)(void))take, METH_FASTCALL, "values at ascending or any indexes"},
    {"positions", (PyCFunction)(void (*)(void))positions, METH_FASTCALL, "positions of some postings"},
    {"intersect", (PyCFunction)(void (*)(void))intersect, METH_FASTCALL, "values in both of two ascending arrays"},
    {"take_runs", (PyCFunction)(void (*)(void))take_runs, METH_FASTCALL, "runs of values, concatenated"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "bitpack_c", "kb.bitpack's inner loops in C", -1, methods};

PyMODINIT_FUNC PyInit_bitpack_c(void) { return PyModule_Create(&module); }
