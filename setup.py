"""The compiled parts, both optional: kb.bitpack_c, the postings' inner loops (kb/bitpack_c.c), and
kb.shingles_c, the version sketch's shingle list (kb/shingles_c.c). Where no C compiler is found the
build goes on without them and kb.bitpack and kb.versions run the same steps in numpy and Python
(slower searches and ingest; `kb status` says so). Everything else is declared in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension(name, [f"{name.replace('.', '/')}.c"], optional=True, extra_compile_args=["-O3", "-std=c99"])
                   for name in ("kb.bitpack_c", "kb.shingles_c")])
