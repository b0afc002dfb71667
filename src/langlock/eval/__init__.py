"""``langlock eval``: run a model on a prompt set under each remedy and score every answer.

Prompts (``prompts``), target-language frames (``frames``), model backends (``backends``),
remedies (``strategies``), scores with bootstrap intervals (``scoring``), the resumable run
(``runner``) and the offline HTML report (``report``).
"""
