"""The one compiled part: kb.bitpack_c, the postings' inner loops in C (kb/bitpack_c.c). Optional: where
no C compiler is found the build goes on without it and kb.bitpack runs the same steps in numpy
(slower searches; `kb status` says so). Everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("kb.bitpack_c", ["kb/bitpack_c.c"], optional=True,
                             extra_compile_args=["-O3", "-std=c99"])])
