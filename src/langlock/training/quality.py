"""The quality guard: does the tuned model still write the language, or did it pass the
checker by breaking? Perplexity of base and tuned model on clean target-language text the
training never saw (``data/train/heldout_<lang>.txt``); the eval's degenerate rate and
answer length cover the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Perplexity:
    base: float
    tuned: float
    tokens: int

    @property
    def change(self) -> float:
        """Relative change, tuned against base (+0.05: 5 % worse).

        >>> round(Perplexity(base=10.0, tuned=10.5, tokens=1).change, 3)
        0.05
        """
        return self.tuned / self.base - 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": round(self.base, 3),
            "tuned": round(self.tuned, 3),
            "change": round(self.change, 4),
            "tokens": self.tokens,
        }


def perplexity(
    model: Any, tokenizer: Any, texts: Sequence[str], max_length: int = 512
) -> tuple[float, int]:
    """exp of the mean next-token loss over every token of ``texts`` (each text on its own,
    cut at ``max_length`` tokens), and the number of tokens scored."""
    import torch

    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_length)
            input_ids = ids["input_ids"]
            if input_ids.shape[1] < 2:
                continue
            out = model(input_ids=input_ids, attention_mask=ids["attention_mask"], labels=input_ids)
            scored = input_ids.shape[1] - 1
            total += float(out.loss) * scored
            count += scored
    if not count:
        raise ValueError("no text to score")
    return math.exp(total / count), count


def base_and_tuned_perplexity(peft_model: Any, tokenizer: Any, texts: Sequence[str]) -> Perplexity:
    """Perplexity with the adapter off (the base model) and on."""
    with peft_model.disable_adapter():
        base, tokens = perplexity(peft_model, tokenizer, texts)
    tuned, _ = perplexity(peft_model, tokenizer, texts)
    return Perplexity(base=base, tuned=tuned, tokens=tokens)
