"""The training door: preference pairs from a model's own slips and from minimal corruptions
of clean answers, LoRA preference tuning with TRL and peft, and the adapter exported as a
llama.cpp LoRA GGUF. The heavy parts (torch, transformers, trl, peft) are imported lazily,
inside the functions that need them: ``pip install 'langlock[train]'``.
"""
