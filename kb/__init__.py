"""kb: a searchable knowledge base for Chinese documents.

The data path, one module per step:

    read (files -> text) -> clean -> meta -> analysis -> index -> search

`kb` never imports `web`; the web site is a thin layer over `kb.search`.
"""

__version__ = "0.1.0"
