/*
 * leakext.c - a C extension with a missing Py_DECREF: leakext.leak(N)
 * makes N dicts and drops each without its last reference, so nothing
 * points at them and their count stays 1: leaked references, which
 * gc.collect() cannot free (t0650-python.sh builds it with the
 * interpreter's headers).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *leak(PyObject *self, PyObject *arg)
{
	long n = PyLong_AsLong(arg);

	(void)self;
	if (n < 0 && PyErr_Occurred())
		return NULL;
	for (long i = 0; i < n; i++) {
		PyObject *d = PyDict_New();

		if (!d)
			return NULL;
		/* the missing Py_DECREF(d) */
	}
	Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
	{ "leak", leak, METH_O, "make N dicts and lose them" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = { PyModuleDef_HEAD_INIT, "leakext", NULL, -1, methods };

PyMODINIT_FUNC PyInit_leakext(void)
{
	return PyModule_Create(&module);
}
