"""The report tests' data: a summary and generations with every kind of finding, nested and
crossing spans, markup in prompts and answers, an error and a degenerate answer."""

from __future__ import annotations

STRATEGIES = ["none", "frame", "lock", "frame+lock"]
CATEGORIES = ["everyday", "technical", "english_instruction", "long_form", "trap"]
KIND_NAMES = [
    "foreign_script",
    "foreign_word",
    "wrong_language",
    "mixed_script",
    "translit",
    "mojibake",
    "invisible",
    "special_token",
    "repetition",
]

# A Cyrillic answer with an astral character first: a UTF-16 offset would be one off.
SKY = (
    "🌍 Небо голубое: свет рассеивается на молекулах воздуха.\n"
    "Это не milestone, а закон Рэлея — и deadline тут ни при чём."
)
SKY_FINDINGS = [
    {
        "kind": "foreign_word",
        "severity": "major",
        "start": 63,
        "end": 72,
        "line": 2,
        "text": "milestone",
        "message": "English word in Russian prose",
    },
    # "deadline" lies inside a wider span: the marks nest.
    {
        "kind": "wrong_language",
        "severity": "major",
        "start": 82,
        "end": 100,
        "line": 2,
        "text": "Рэлея — и deadline",
        "message": "clause reads as <mixed> & odd",
    },
    {
        "kind": "foreign_word",
        "severity": "minor",
        "start": 92,
        "end": 100,
        "line": 2,
        "text": "deadline",
        "message": "English word in Russian prose",
    },
]

# Two spans that cross ("kubectl rollout" and "rollout restart") and one nested in both.
KUBE = "Перезапустите под: kubectl rollout restart, затем проверьте логи."
SCRIPT_ANSWER = 'Вот перевод: <script>alert("x")</script> & «до свидания»'
SCRIPT_PROMPT = 'Переведи: "<script>alert(1)</script> & goodbye" <img src=x onerror=alert(1)>'


def find(answer: str, needle: str, kind: str, message: str, severity: str = "major") -> dict:
    """A finding at the first occurrence of ``needle`` (code-point offsets)."""
    start = answer.index(needle)
    return {
        "kind": kind,
        "severity": severity,
        "start": start,
        "end": start + len(needle),
        "line": answer.count("\n", 0, start) + 1,
        "text": needle,
        "message": message,
    }


def kube_findings() -> list[dict]:
    return [
        find(KUBE, "kubectl rollout", "foreign_word", "English words in Russian prose"),
        find(KUBE, "rollout restart", "foreign_script", "Latin run outside code"),
        find(KUBE, "rollout", "translit", "could be transliterated", "minor"),
    ]


PROMPTS = {
    "everyday-001": ("everyday", "Почему небо голубое?"),
    "everyday-002": ("everyday", "Как сварить гречку?"),
    "technical-001": ("technical", "Как перезапустить под?"),
    "english-001": ("english_instruction", SCRIPT_PROMPT),
    "long-001": ("long_form", "Расскажи историю языка."),
    "trap-001": ("trap", "Напиши по-английски: Hello, world"),
}
LONG = "\n\n".join(
    f"Глава {i}. Язык модели остаётся русским, если рамка и замок работают вместе; "
    "иначе в длинном ответе постепенно появляются английские слова."
    for i in range(1, 16)
)
DRIFT = "In summary, the model drifts into English at the end."
LOOP = "Да, да. " * 60


def record(
    pid: str,
    strategy: str,
    sample: int,
    answer: str | None,
    findings: list[dict] | None = None,
    *,
    degenerate: bool = False,
    error: str | None = None,
) -> dict:
    """One eval JSONL record; ``ok`` follows the findings as the checker's verdict does."""
    category, prompt = PROMPTS[pid]
    findings = findings or []
    return {
        "id": pid,
        "category": category,
        "prompt": prompt,
        "strategy": strategy,
        "sample": sample,
        "seed": 17 + sample,
        "answer": answer,
        "ok": None if error else not any(f["severity"] == "major" for f in findings),
        "degenerate": degenerate,
        "findings": findings,
        "tokens": None if error else 40 + len(answer or "") // 4,
        "seconds": 0.4 if error else 1.5 + sample,
        "error": error,
    }


def clean(pid: str, strategy: str, sample: int) -> dict:
    text = f"Ответ на {pid} ({strategy}, выборка {sample}): всё написано по-русски."
    return record(pid, strategy, sample, text)


def answers(strategy: str, sample: int) -> list[dict]:
    """One strategy's answers to every prompt: each category fails in its own way."""
    locked = strategy in ("lock", "frame+lock")
    out = []
    # everyday: the Cyrillic answer with exact offsets fails without a remedy.
    if strategy == "none" and sample == 0:
        out.append(record("everyday-001", strategy, 0, SKY, SKY_FINDINGS))
    else:
        out.append(clean("everyday-001", strategy, sample))
    out.append(clean("everyday-002", strategy, sample))
    # technical: crossing spans unless the lock is on.
    if locked:
        fixed = "Перезапустите под командой из справки и проверьте журнал."
        out.append(record("technical-001", strategy, sample, fixed))
    else:
        out.append(record("technical-001", strategy, sample, KUBE, kube_findings()))
    # english_instruction: HTML-special text in the prompt and, without a remedy, the answer.
    if strategy == "none":
        script = '<script>alert("x")</script>'
        bad = find(SCRIPT_ANSWER, script, "foreign_script", "Latin <script> run & more")
        out.append(record("english-001", strategy, sample, SCRIPT_ANSWER, [bad]))
    else:
        out.append(record("english-001", strategy, sample, "Вот перевод: «до свидания»."))
    # long_form: drifts into English at the end; "frame" loops once instead.
    if strategy == "frame" and sample == 0:
        rep = find(LOOP, LOOP[:80], "repetition", "the same phrase repeats")
        out.append(record("long-001", strategy, 0, LOOP, [rep], degenerate=True))
    elif locked:
        out.append(record("long-001", strategy, sample, LONG))
    else:
        text = f"{LONG}\n{DRIFT}"
        drift = find(text, DRIFT, "wrong_language", "sentence in English")
        out.append(record("long-001", strategy, sample, text, [drift]))
    # trap: English was asked for; the lock over-blocks it, and once errors out.
    if strategy == "lock" and sample == 0:
        error = "TimeoutError: no answer after 60 s <endpoint>"
        out.append(record("trap-001", strategy, 0, None, error=error))
    elif locked:
        over = find("Привет, мир", "Привет, мир", "wrong_language", "the prompt asked for English")
        out.append(record("trap-001", strategy, sample, "Привет, мир", [over]))
    else:
        out.append(record("trap-001", strategy, sample, "Hello, world"))
    return out


def make_generations() -> list[dict]:
    return [g for strategy in STRATEGIES for sample in (0, 1) for g in answers(strategy, sample)]


def interval(value: float, width: float = 0.12) -> dict:
    return {"value": value, "low": max(0.0, value - width), "high": min(1.0, value + width)}


def has_major(rec: dict, kind: str) -> bool:
    return any(f["kind"] == kind and f["severity"] == "major" for f in rec["findings"])


def make_summary(gens: list[dict]) -> dict:
    """Rows computed from the generations, with made-up but plausible intervals."""
    rows = []
    for strategy in STRATEGIES:
        for category in ["all", *CATEGORIES]:
            recs = [
                g
                for g in gens
                if g["strategy"] == strategy
                and (category == "all" or g["category"] == category)
                and g["error"] is None
            ]
            n = len(recs)
            kinds = {k: sum(has_major(g, k) for g in recs) / n for k in KIND_NAMES}
            rows.append(
                {
                    "strategy": strategy,
                    "category": category,
                    "n": n,
                    "pass_rate": interval(sum(g["ok"] for g in recs) / n),
                    "line_pass_rate": interval(min(1.0, 0.2 + sum(g["ok"] for g in recs) / n)),
                    "degenerate_rate": interval(sum(g["degenerate"] for g in recs) / n, 0.05),
                    "empty_rate": 0.0,
                    "lpr": None if category == "trap" else 0.5 + 0.1 * STRATEGIES.index(strategy),
                    "wpr": None if category == "trap" else 0.9,
                    "kinds": kinds,
                    "mean_chars": sum(len(g["answer"]) for g in recs) / n,
                    "tokens_per_second": 31.2 - 2 * STRATEGIES.index(strategy),
                    "mean_seconds": 3.1,
                }
            )
    return {
        "title": "langlock eval <ru>",
        "model": "bundled Gemma 3 270M (Q4_K_M)",
        "backend": "llama.cpp",
        "lang": "ru",
        "preset": "standard",
        "temperature": 0.7,
        "samples": 2,
        "seed": 0,
        "max_tokens": 256,
        "created": "2026-11-29T07:30:00Z",
        "strategies": STRATEGIES,
        "skipped": {},
        "categories": CATEGORIES,
        "rows": rows,
    }
