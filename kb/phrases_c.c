/* kb.meta.sectors' phrase matching in C: at each candidate place of a text, the longest phrase
   that starts there, leftmost first, never overlapping, counted. The same counts as the Python
   loop of kb.meta.sectors.Phrases.count (which runs where this is not built): the loop's
   interpreter steps per place and per phrase tried were a sixth of a document's sector work. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* longest_matches(text, places, by_pair) -> {phrase: count}
   places: ascending list of ints (where some phrase's first two characters stand; more is harmless);
   by_pair: {two characters: tuple of the phrases starting with them, longest first}. */
static PyObject *longest_matches(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyList_Check(args[1]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "longest_matches(text: str, places: list, by_pair: dict)");
        return NULL;
    }
    PyObject *text = args[0], *places = args[1], *by_pair = args[2];
    if (PyUnicode_READY(text) < 0) return NULL;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    PyObject *found = PyDict_New();
    if (found == NULL) return NULL;
    Py_ssize_t end = 0; /* text before this is inside a phrase already counted */
    Py_ssize_t count = PyList_GET_SIZE(places);
    for (Py_ssize_t p = 0; p < count; p++) {
        Py_ssize_t i = PyLong_AsSsize_t(PyList_GET_ITEM(places, p));
        if (i == -1 && PyErr_Occurred()) goto fail;
        if (i < end || i < 0 || i + 2 > length) continue;
        PyObject *pair = PyUnicode_Substring(text, i, i + 2);
        if (pair == NULL) goto fail;
        PyObject *phrases = PyDict_GetItemWithError(by_pair, pair); /* borrowed */
        Py_DECREF(pair);
        if (phrases == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        if (!PyTuple_Check(phrases)) {
            PyErr_SetString(PyExc_TypeError, "by_pair values must be tuples");
            goto fail;
        }
        Py_ssize_t tried = PyTuple_GET_SIZE(phrases);
        for (Py_ssize_t k = 0; k < tried; k++) {
            PyObject *phrase = PyTuple_GET_ITEM(phrases, k);
            Py_ssize_t hit = PyUnicode_Tailmatch(text, phrase, i, length, -1);
            if (hit == -1) goto fail;
            if (!hit) continue;
            PyObject *before = PyDict_GetItemWithError(found, phrase);
            if (before == NULL && PyErr_Occurred()) goto fail;
            PyObject *after = PyLong_FromSsize_t(before == NULL ? 1 : PyLong_AsSsize_t(before) + 1);
            if (after == NULL || PyDict_SetItem(found, phrase, after) < 0) {
                Py_XDECREF(after);
                goto fail;
            }
            Py_DECREF(after);
            end = i + PyUnicode_GET_LENGTH(phrase);
            break;
        }
    }
    return found;
fail:
    Py_DECREF(found);
    return NULL;
}

static PyMethodDef methods[] = {
    {"longest_matches", (PyCFunction)(void (*)(void))longest_matches, METH_FASTCALL,
     "at each place the longest phrase starting there, leftmost first, never overlapping: {phrase: count}"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "phrases_c", "kb.meta.sectors' phrase matching in C", -1,
                                    methods};

PyMODINIT_FUNC PyInit_phrases_c(void) { return PyModule_Create(&module); }
