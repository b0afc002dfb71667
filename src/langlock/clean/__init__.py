"""``langlock clean``: language-discipline cleaning of fine-tuning corpora.

Record formats and the texts to check in them (``records``), one record's verdict
(``cleaner``), streaming readers and atomic writers (``io``), the local process pool and
Ray Data engines (``engines``), and adapters for datatrove and ``datasets`` (``adapters``).
"""
