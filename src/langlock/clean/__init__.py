"""``langlock clean``: language-discipline cleaning of fine-tuning corpora.

Record formats and the texts to check in them (``records``), one record's verdict
(``cleaner``), streaming readers (``readers``) and the writers of kept records and rejects
(``writers``, atomic through ``langlock.io``), a piece judged in a worker (``judging``), the
local process pool and Ray Data engines (``engines``), a whole run (``pipeline``), and
adapters for datatrove and ``datasets`` (``adapters``).
"""
