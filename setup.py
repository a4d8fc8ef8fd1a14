"""The compiled parts, each kb/<name>_c.c built as kb.<name>_c, all optional: kb.bitpack_c, the
postings' inner loops; kb.shingles_c, the version sketch's shingles; kb.phrases_c, the sector
keywords' matching. Where no C compiler is found the build goes on without them and kb.bitpack,
kb.versions and kb.meta.sectors run the same steps in numpy and Python (slower searches and ingest;
`kb stats` and ./setup.sh say so). Everything else is declared in pyproject.toml."""

from pathlib import Path

from setuptools import Extension, setup

setup(ext_modules=[Extension(f"kb.{source.stem}", [f"kb/{source.name}"], optional=True,
                             extra_compile_args=["-O3", "-std=c99"])
                   for source in sorted(Path(__file__).parent.glob("kb/*_c.c"))])
