"""Tests for langlock.text.detectors.translit: Russian written in Latin letters.

The lists below are the detector's evaluation set: realistic translit phrases in several
schemes (positives), and English, tech terms, names, Spanish, German, other European
languages, romaji, pinyin and Korean romanization (negatives). ``test_report_precision_recall``
prints precision and recall over them (run pytest with ``-s`` to see the numbers).
"""

from __future__ import annotations

import importlib.util
import random
import re
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langlock.text.detectors.translit import (
    TranslitDetector,
    TranslitHit,
    cyrillic_candidates,
    to_cyrillic,
)

MODULE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "langlock"
    / "text"
    / "detectors"
    / "translit"
    / "__init__.py"
)
DATA = Path(__file__).resolve().parents[2] / "src" / "langlock" / "data" / "translit" / "ru.toml"

#: Latin words as the checker passes them: Latin letters with inner hyphens/apostrophes,
#: an optional soft-sign apostrophe at the end, and the volapuk digits 4/6/3 in front.
_LATIN = "A-Za-z\u00c0-\u024f"
WORD = re.compile(rf"[346]?[{_LATIN}](?:[{_LATIN}'’ʹ-]*[{_LATIN}])?'?")


def latin_words(text: str) -> list[tuple[int, int, str]]:
    """The Latin words of ``text`` as (start, end, word)."""
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


@pytest.fixture(scope="module")
def det() -> TranslitDetector:
    return TranslitDetector()


def hits_of(det: TranslitDetector, text: str) -> list[TranslitHit]:
    return det.find(latin_words(text))


def same(a: str, b: str) -> bool:
    """Cyrillic equality up to ё/е (writers drop the dots)."""
    return a.replace("ё", "е").replace("Ё", "Е") == b.replace("ё", "е").replace("Ё", "Е")


# --------------------------------------------------------------------------- the lists

POSITIVES = [
    ("privet, kak dela?", "привет как дела"),
    ("ya tebya lyublyu", "я тебя люблю"),
    ("spasibo za pomosch'", "спасибо за помощь"),
    ("chto ty delaesh?", "что ты делаешь"),
    ("mne nravitsya eta kniga", "мне нравится эта книга"),
    ("zhizn' prekrasna", "жизнь прекрасна"),
    ("Moskva stolitsa Rossii", "Москва столица России"),
    ("ya ne znayu", "я не знаю"),
    ("chto delat'?", "что делать"),
    ("Zdravstvujte, menya zovut Ivan", "Здравствуйте меня зовут Иван"),
    ("khorosho, davaj vstretimsya zavtra", "хорошо давай встретимся завтра"),
    ("spasibo bolshoe", "спасибо большое"),
    ("spasibo bol'shoe", "спасибо большое"),
    ("do svidaniya", "до свидания"),
    ("kak tebya zovut?", "как тебя зовут"),
    ("ochen' priyatno", "очень приятно"),
    ("ya zhivu v Moskve", "я живу в Москве"),
    ("segodnya khoroshaya pogoda", "сегодня хорошая погода"),
    ("poka, uvidimsya", "пока увидимся"),
    ("izvinite, ya ne ponimayu", "извините я не понимаю"),
    ("gde nakhoditsya metro?", "где находится метро"),
    ("skol'ko eto stoit?", "сколько это стоит"),
    ("ya khochu pit'", "я хочу пить"),
    ("davno ne videlis'", "давно не виделись"),
    ("vsyo budet khorosho", "всё будет хорошо"),
    ("s dnyom rozhdeniya", "с днём рождения"),
    ("s novym godom", "с новым годом"),
    ("na samom dele eto ochen' prosto", "на самом деле это очень просто"),
    ("4to ty hochesh?", "что ты хочешь"),
    ("ja ne znaju, chto skazat'", "я не знаю что сказать"),
    ("mnogo raboty segodnya", "много работы сегодня"),
    ("eto moya lyubimaya pesnya", "это моя любимая песня"),
    ("shchi da kasha pishcha nasha", "щи да каша пища наша"),
    ("bez truda ne vytashchish' i rybku iz pruda", "без труда не вытащишь и рыбку из пруда"),
    ("ne za chto", "не за что"),
    ("vse v poryadke", "все в порядке"),
    ("a ty kak dumaesh'?", "а ты как думаешь"),
    ("ya uzhe govoril ob etom", "я уже говорил об этом"),
    ("nichego strashnogo", "ничего страшного"),
    ("kto ne riskuet, tot ne p'yot shampanskoe", "кто не рискует тот не пьёт шампанское"),
    ("pozhalujsta, pomogite mne", "пожалуйста помогите мне"),
    # "?": a word that is also common elsewhere (French "les"); not required
    ("rabota ne volk, v les ne ubezhit", "работа не волк в ? не убежит"),
    ("PRIVET VSEM", "ПРИВЕТ ВСЕМ"),
    ("kak-to raz ya poshyol v magazin", "как-то раз я пошёл в магазин"),
    ("govorit' po-russki", "говорить по-русски"),
    ("zavtra budet dozhd'", "завтра будет дождь"),
    ("mne nuzhna tvoya pomoshch", "мне нужна твоя помощь"),
    ("Ia liubliu tebia", "Я люблю тебя"),
    ("žizn' prekrasna", "жизнь прекрасна"),
    ("ja xochu čaju", "я хочу чаю"),
    ("yozhik v tumane", "ёжик в тумане"),
    ("Vy govorite po-angliyski?", "Вы говорите по-английски"),
    ("Chto novogo?", "Что нового"),
    ("Spokojnoj nochi", "Спокойной ночи"),
    ("Dobroe utro", "Доброе утро"),
    ("Schastlivogo puti", "Счастливого пути"),
    ("Nu ladno, davaj", "Ну ладно давай"),
    ("Eto prosto uzhasno", "Это просто ужасно"),
    ("Mozhno mne chashku chaya?", "Можно мне чашку чая"),
    ("u menya vsyo khorosho", "у меня всё хорошо"),
    ("Bol'shoe spasibo za otvet", "Большое спасибо за ответ"),
    ("kogda ty pridyosh' domoj?", "когда ты придёшь домой"),
    ("ya ochen' ustal segodnya", "я очень устал сегодня"),
    ("gde ty byl vchera?", "где ты был вчера"),
    ("davaj pogovorim ob etom zavtra", "давай поговорим об этом завтра"),
    ("eto ne moya problema", "это не моя проблема"),
    ("Ya lyublyu chitat' knigi", "Я люблю читать книги"),
    ("on rabotaet v bol'nitse", "он работает в больнице"),
    ("my poedem na more letom", "мы поедем на море летом"),
    ("teoriya otnositel'nosti", "теория относительности"),
    ("shto ty skazal", "что ты сказал"),
]

# single translit words embedded in Russian prose; (text, expected fix of the Latin word)
LONE_POSITIVES = [
    ("Он сказал spasibo и ушёл.", "спасибо"),
    ("Всё будет khorosho, не волнуйся.", "хорошо"),
    ("Напишите, pozhaluysta, ответ.", "пожалуйста"),
    ("Zdravstvujte! Чем могу помочь?", "Здравствуйте"),
    ("Было очень priyatno познакомиться.", "приятно"),
    ("Он ответил: Privet!", "Привет"),
    ("Мы шли по ulitse долго.", "улице"),
    ("На обед были shchi и каша.", "щи"),
    ("Она сказала, что horosho понимает.", "хорошо"),
    ("Это было shumersko-аккадское царство.", "шумерско"),
    ("Я не хочу delat' это сейчас.", "делать"),
    ("Спасибо за otvet, всё ясно.", "ответ"),
    ("Это была prekrasnaya идея.", "прекрасная"),
    ("Мне kazhetsya, что это не так.", "кажется"),
    ("Сейчас ya poprobuyu ещё раз.", None),
]

ENGLISH_PROSE = [
    "The pipeline uses a random seed to make the results reproducible.",
    "Attention is all you need, according to the famous paper.",
    "Load the dataset, split each sentence into a token list and pass the prompt to the model.",
    "The framework falls back to the default batch size when the layer is frozen.",
    "Python and Docker are installed on the build server.",
    "Maxwell's equations describe electromagnetism; Dijkstra's algorithm finds shortest paths.",
    "Minecraft is a sandbox game and Kanye West released a new album.",
    "No, I do not think so, but it is a good idea on the whole.",
    "She said no to the offer, and then he told her that it was too late.",
    "The data on the net shows that the market is growing.",
    "My mama made a cake for my birthday.",
    "Tak is a board game, and Kak is not a word in English.",
    "On the other hand, the plan to fix the bug was too ambitious.",
    "Pro tip: set the learning rate to zero point zero one.",
    "I asked my friend to borrow some money, but she said no.",
    "The ego and the id are concepts from Freud.",
    "The tetrad of nucleotides was sequenced yesterday.",
    "To be or not to be, that is the question.",
    "Please restart the server and clear the cache before deploying.",
    "He bought a new phone, a laptop and a pair of headphones.",
    "The model was fine-tuned with LoRA on a single GPU.",
    "We measured the latency of the API under heavy load.",
    "Rostov is a city, and Tolstoy wrote War and Peace.",
    "Vladimir Putin met with Angela Merkel in Berlin.",
    "Anna Karenina is a novel by Leo Tolstoy.",
    "Fyodor Dostoevsky wrote Crime and Punishment.",
    "Boris Yeltsin and Mikhail Gorbachev were Soviet and Russian leaders.",
    "The Kremlin is in Moscow, the capital of Russia.",
    "Gazprom and Rosneft are large energy companies.",
    "The sputnik was launched in 1957 and the word means fellow traveller.",
    "Babushka dolls are also called matryoshka dolls.",
    "Vodka, borscht and pelmeni are well known outside Russia.",
    "Da Vinci painted the Mona Lisa.",
    "Net income rose by ten percent this quarter.",
    "So we set up a new cluster with Kubernetes and Terraform.",
    "Data is stored in a PostgreSQL database with a Redis cache.",
    "Use git rebase to keep the history linear.",
    "The Tesla Model S has a range of over six hundred kilometres.",
    "Visit the Louvre, the Prado and the Uffizi.",
    "He plays tennis on Mondays and golf on Sundays.",
    "Stop, look and listen before crossing the road.",
    "Let me know if you have any questions about the report.",
    "This is a test of the emergency broadcast system.",
    "I need to finish the report by Friday.",
    "The robot moved to the left, then to the right.",
    "Her name is Vera and his name is Boris.",
    "A moment later the tram stopped at the park.",
    "The sport club plans a banket in the restoran.",
    "Nina and Olga went to the store.",
    "The protocol defines a status field, a format field and a text field.",
]

_TECH_TERMS = (
    "pipeline seed attention dataset token prompt framework default batch layer embedding "
    "tensor gradient checkpoint optimizer scheduler tokenizer transformer encoder decoder "
    "inference latency throughput benchmark baseline backbone dropout softmax logits sampler "
    "epoch callback middleware backend frontend deploy commit merge branch rebase cache "
    "cluster container kernel driver runtime compiler debugger profiler webhook endpoint "
    "payload schema query index shard replica node pod namespace config manifest plugin "
    "widget template router handler listener worker thread mutex semaphore queue stack heap"
)
TECH_TERMS = _TECH_TERMS.split()

_NAMES = (
    "Python Docker Maxwell Dijkstra Minecraft Kanye Kubernetes PyTorch TensorFlow GitHub Linux "
    "Windows Tesla Elon Musk Obama Google Microsoft Amazon Netflix Spotify Samsung Toyota iPhone "
    "Qwen LoRA GPU API SQL NVIDIA Anthropic OpenAI Claude Gemini Llama Mistral Ubuntu Debian "
    "Einstein Newton Darwin Shakespeare Beethoven Mozart Picasso Tolkien Hogwarts Batman Marvel "
    "Tolstoy Dostoevsky Pushkin Gagarin Putin Moscow Kremlin Siberia Volga Kazan Sochi Yandex "
    "Kaspersky Sberbank Gazprom Lada Kalashnikov Smirnoff Vera Nina Olga Boris Ivan Natasha"
)
NAMES = _NAMES.split()

SPANISH = [
    "En la gloria de tu nombre, oh Patria, y en la grandeza de tu historia",
    "en la unión de tu pueblo, en la justicia de tu ley",
    "en la libertad de tu hijo, en la esperanza de tu futuro",
    "en la grandeza de tu destino",
    "Que el alma siente cuando el corazón llora",
    "Me gusta mucho la música de este país",
    "¿Dónde está la biblioteca?",
    "Buenos días, señor, ¿cómo está usted?",
    "Todo va a estar bien, no te preocupes",
    "La vida es bella y el tiempo vuela",
    "No sé nada de eso, pero lo voy a buscar",
    "Te quiero mucho, mi amor",
    "Oíd, mortales, el grito sagrado: libertad, libertad, libertad",
    "Sean eternos los laureles que supimos conseguir",
    "Coronados de gloria vivamos o juremos con gloria morir",
    "Hola, ¿qué tal? Muy bien, gracias",
    "El perro come la carne y la casa es grande",
    "Para bailar la bamba se necesita una poca de gracia",
    "Somos lo que hacemos para cambiar lo que somos",
    "Volver a los diecisiete después de vivir un siglo",
]

GERMAN = [
    "Ich weiß es nicht",
    "Das ist sehr gut, danke schön",
    "Wie geht es dir heute?",
    "Guten Morgen, meine Damen und Herren",
    "Ich habe keine Zeit für so etwas",
    "Die Katze schläft auf dem Sofa",
    "Was machst du am Wochenende?",
    "Es tut mir leid, das war nicht meine Absicht",
    "Freude, schöner Götterfunken, Tochter aus Elysium",
    "Einigkeit und Recht und Freiheit für das deutsche Vaterland",
    "Da ist er, und so geht es weiter",
    "Wir haben das Problem schon gelöst",
    "Kannst du mir bitte helfen?",
    "Der Zug kommt um acht Uhr an",
    "Alles klar, bis morgen",
]

OTHER_EUROPEAN = [
    "Je ne sais pas ce que tu veux dire",
    "C'est la vie, mon ami",
    "Comment ça va? Très bien, merci beaucoup",
    "Il fait beau aujourd'hui",
    "Come stai? Sto bene, grazie mille",
    "Non lo so, ma ti amo",
    "Buona sera, signora, dove va?",
    "Tudo bem? Eu não sei nada dela",
    "Bom dia, obrigado pela ajuda",
    "A casa dela é muito bonita",
    "Nel mezzo del cammin di nostra vita",
    "O sole mio, sta nfronte a te",
    "Allons enfants de la Patrie, le jour de gloire est arrivé",
]

ROMAJI = [
    "watashi wa mizu o nomimasu",
    "yoroshiku onegaishimasu",
    "hajimemashite",
    "arigatou gozaimasu",
    "konnichiwa",
    "sumimasen, eki wa doko desu ka",
    "itadakimasu",
    "ohayou gozaimasu",
    "Omatsuri no de aru, Atari no aida, Yōkade",
    "Atarashii tomodachi ni aoisatsu suru",
    "kawaii",
    "sugoi desu ne",
    "nani wo shite imasu ka",
    "sayonara",
    "oyasumi nasai",
    "daijoubu desu ka",
    "kore wa pen desu",
    "ano hito wa dare desu ka",
    "mizu o kudasai",
    "Shinkansen de Tōkyō kara Ōsaka made ikimasu",
    "kimi no na wa",
    "Naruto to Sasuke wa tomodachi da",
    "itsumo arigatou",
    "senpai, mite kudasai",
    "ganbatte kudasai",
    "mono no aware",
    "sakura ga saku",
    "ichi, ni, san, shi, go",
]

PINYIN = [
    "nǐ hǎo",
    "ni hao",
    "xie xie",
    "wo ai ni",
    "Zhongguo ren",
    "Beijing huanying ni",
    "wo shi xuesheng",
    "ni3 hao3",
    "mei you wenti",
    "zai jian",
    "duo shao qian",
    "Xi Jinping",
    "Mao Zedong",
    "ni chi fan le ma",
    "wo bu zhidao",
    "hen hao",
    "ta shi laoshi",
    "Wǒ ài nǐ",
    "jiayou",
    "kuai le",
    "shang hai",
    "yi er san si wu",
    "gong xi fa cai",
    "xiǎo lóng bāo",
]

KOREAN = [
    "bong-jang",
    "annyeonghaseyo",
    "kamsahamnida",
    "saranghae",
    "Kim Namjoon",
    "oppa",
    "gwenchana",
    "jal jinaesseoyo",
    "mianhae",
    "Seoul",
    "bibimbap",
    "kimchi jjigae",
    "hwaiting",
    "aegyo",
    "Gangnam style",
    "daebak",
    "eonni",
    "hangeul",
    "bulgogi",
    "Park Ji-sung",
    "Son Heung-min",
    "Jeon Jung-kook",
    "naega mwo",
    "na-neun haksaeng-ieyo",
    "tteokbokki",
]

# single ambiguous words inside Russian prose: must not be flagged alone
LONE_NEGATIVES = [
    "Моя mama приготовила ужин.",
    "Поле data содержит дату.",
    "Ответ был net, и точка.",
    "Он сказал da и ушёл.",
    "Это tak просто.",
    "Потом on пришёл домой.",
    "Я сказал ya и замолчал.",
    "Это no хорошо.",
    "Как kak это работает?",
    "Используйте pipeline для обработки.",
    "Задайте seed для воспроизводимости.",
    "Механизм attention важен.",
    "Загрузите dataset заранее.",
    "Каждый token стоит денег.",
    "Напишите prompt короче.",
    "Этот framework популярен.",
    "Значение default не подходит.",
    "Размер batch равен 32.",
    "Каждый layer обучается.",
    "Мы используем Python и Docker.",
    "Уравнения Maxwell описывают поле.",
    "Алгоритм Dijkstra ищет путь.",
    "Игра Minecraft популярна.",
    "Песня Kanye вышла вчера.",
    "Роман Tolstoy был издан.",
    "Город Moskva большой.",
    "Поле status пустое.",
    "Это был moment истины.",
    "Он пошёл в park гулять.",
    "Мы купили tort на праздник.",
    "Это plan на завтра.",
    "Его problem в том, что он спешит.",
    "Переменная text хранит строку.",
    "Функция import загружает модуль.",
    "Мы смотрели internet всю ночь.",
    "Откройте menu настроек.",
    "Он читал Vera Pavlova.",
    "Модель Qwen3 лучше.",
    "Запрос к API выполнен.",
    "Сервис Yandex работает.",
]


def english_sentences(n: int = 300, seed: int = 1234) -> list[str]:
    """Random sentences over the 3000 most frequent English words (wordfreq)."""
    from wordfreq import top_n_list

    vocab = [w for w in top_n_list("en", 3000) if w.isalpha()]
    rng = random.Random(seed)
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 15))) for _ in range(n)]


NEGATIVE_SETS: dict[str, list[str]] = {
    "english_prose": ENGLISH_PROSE,
    "tech_terms": [" ".join(TECH_TERMS), *TECH_TERMS],
    "names": [" ".join(NAMES), *NAMES],
    "spanish": SPANISH,
    "german": GERMAN,
    "other_european": OTHER_EUROPEAN,
    "romaji": ROMAJI,
    "pinyin": PINYIN,
    "korean": KOREAN,
    "lone_in_russian": LONE_NEGATIVES,
}


# ------------------------------------------------------------------------ positives


@pytest.mark.parametrize(("text", "expected"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_phrase_is_flagged_with_its_cyrillic(
    det: TranslitDetector, text: str, expected: str
) -> None:
    words = latin_words(text)
    want = expected.split()
    assert len(words) == len(want), "test data: one Cyrillic word per Latin word"
    got = {h.start: h for h in det.find(words)}
    for (start, end, word), cyr in zip(words, want, strict=True):
        if cyr == "?":
            continue
        assert start in got, f"{word!r} not flagged in {text!r}"
        hit = got[start]
        assert (hit.end, hit.text) == (end, word)
        assert same(hit.cyrillic, cyr), f"{word!r} -> {hit.cyrillic!r}, want {cyr!r}"
        assert 0.5 <= hit.confidence <= 1.0


@pytest.mark.parametrize(("text", "expected"), LONE_POSITIVES, ids=[p[0] for p in LONE_POSITIVES])
def test_lone_word_in_russian_prose(det: TranslitDetector, text: str, expected: str | None) -> None:
    hits = hits_of(det, text)
    assert hits, f"nothing flagged in {text!r}"
    if expected is not None:
        assert len(hits) == 1
        assert same(hits[0].cyrillic, expected)


def test_devset_style_word_inside_english(det: TranslitDetector) -> None:
    text = (
        '**お面接 (Omatsuri no de aru, Atari no aida, Yōkade "priyatnoy in-depth '
        'meeting/getting-to-know")**'
    )
    hits = hits_of(det, text)
    assert [(h.text, h.cyrillic) for h in hits] == [("priyatnoy", "приятной")]
    text = "windproof alloy *zažihat' (Belovian term for a deliberate sparking)*"
    assert [h.cyrillic for h in hits_of(det, text)] == ["зажигать"]


def test_case_is_carried_over(det: TranslitDetector) -> None:
    assert [h.cyrillic for h in hits_of(det, "PRIVET VSEM")] == ["ПРИВЕТ", "ВСЕМ"]
    assert [h.cyrillic for h in hits_of(det, "Privet, kak dela")] == ["Привет", "как", "дела"]
    assert [h.cyrillic for h in hits_of(det, "Po-russki govorit'")] == ["По-русски", "говорить"]


def test_hits_carry_offsets_of_the_input(det: TranslitDetector) -> None:
    text = "Он написал: privet, kak dela? И ушёл."
    hits = hits_of(det, text)
    assert [text[h.start : h.end] for h in hits] == ["privet", "kak", "dela"]
    assert all(text[h.start : h.end] == h.text for h in hits)
    assert hits == sorted(hits, key=lambda h: h.start)


def test_hit_is_frozen() -> None:
    hit = TranslitHit(0, 6, "privet", "привет", 0.9)
    with pytest.raises(AttributeError):
        hit.start = 1  # type: ignore[misc]


# ------------------------------------------------------------------------ negatives


def test_random_english_sentences_are_not_translit(det: TranslitDetector) -> None:
    flagged = [(s, [h.text for h in hits_of(det, s)]) for s in english_sentences()]
    flagged = [f for f in flagged if f[1]]
    assert flagged == []


@pytest.mark.parametrize("name", list(NEGATIVE_SETS))
def test_negative_set_has_no_hits(det: TranslitDetector, name: str) -> None:
    flagged = [(t, [h.text for h in hits_of(det, t)]) for t in NEGATIVE_SETS[name]]
    assert [f for f in flagged if f[1]] == []


@pytest.mark.parametrize(
    "word",
    [
        "da",
        "net",
        "on",
        "ya",
        "tak",
        "no",
        "kak",
        "mama",
        "data",
        "ne",
        "a",
        "i",
        "u",
        "pro",
        "tut",
        "vse",
        "ego",
    ],
)
def test_short_ambiguous_word_alone_is_not_flagged(det: TranslitDetector, word: str) -> None:
    assert det.find([(10, 10 + len(word), word)]) == []
    sentence = f"I think {word} is the answer here"
    assert hits_of(det, sentence) == []


@pytest.mark.parametrize(
    "word",
    ["spasibo", "pozhaluysta", "khorosho", "Zdravstvujte", "priyatno", "konechno", "izvinite"],
)
def test_strong_word_alone_is_flagged(det: TranslitDetector, word: str) -> None:
    assert len(det.find([(5, 5 + len(word), word)])) == 1


def test_loanwords_and_russian_names_in_english_are_not_flagged(det: TranslitDetector) -> None:
    for text in (
        "Babushka dolls and a samovar",
        "the tsar and the troika",
        "Sberbank Gazprom Lada Kalashnikov",
        "Anna Karenina by Leo Tolstoy",
        "sputnik, perestroika and glasnost",
    ):
        assert hits_of(det, text) == [], text


def test_capitalized_name_alone_is_not_flagged(det: TranslitDetector) -> None:
    for name in ("Tolstoy", "Moskva", "Rossii", "Sberbank", "Putin", "Ivan", "Kanye"):
        assert det.find([(0, len(name), name)]) == [], name


def test_acronyms_are_not_flagged(det: TranslitDetector) -> None:
    for word in ("NET", "DA", "GPU", "API", "SQL", "ONO"):
        assert det.find([(0, len(word), word)]) == [], word


def test_mixed_case_words_are_not_flagged(det: TranslitDetector) -> None:
    assert hits_of(det, "iPhone PriVet McKinsey YouTube") == []


# ---------------------------------------------------------------------------- context


def test_neighbours_are_close_words_only(det: TranslitDetector) -> None:
    # "kak" and "dela" next to each other form a phrase
    assert len(det.find([(0, 3, "kak"), (4, 8, "dela")])) == 2
    # far apart (Cyrillic words in between), each is a lone ambiguous word
    assert det.find([(0, 3, "kak"), (20, 24, "dela")]) == []
    # the strong word stays strong on its own
    hits = det.find([(0, 7, "spasibo"), (40, 43, "kak")])
    assert [h.text for h in hits] == ["spasibo"]


def test_weak_words_join_a_flagged_phrase(det: TranslitDetector) -> None:
    hits = hits_of(det, "da, konechno")
    assert [h.cyrillic for h in hits] == ["да", "конечно"]


def test_romaji_particles_veto_romaji_shaped_words(det: TranslitDetector) -> None:
    assert hits_of(det, "watashi wa mizu o nomimasu") == []
    assert hits_of(det, "kore wa pen desu") == []


# ------------------------------------------------------------------------- candidates


def test_candidates_cheapest_first_and_limited() -> None:
    cands = cyrillic_candidates("privet")
    assert cands[0] == "привет"
    assert 0 < len(cands) <= 64
    assert len(cyrillic_candidates("pozhaluysta", limit=5)) <= 5
    assert len(set(cands)) == len(cands)


@pytest.mark.parametrize(
    ("word", "reading"),
    [
        ("shchi", "щи"),
        ("shhi", "щи"),
        ("zhizn", "жизнь"),
        ("zhizn'", "жизнь"),
        ("pis'mo", "письмо"),
        ("4to", "что"),
        ("6kola", "школа"),
        ("wkola", "школа"),
        ("xorosho", "хорошо"),
        ("tekst", "текст"),
        ("text", "текст"),
        ("moj", "мой"),
        ("moy", "мой"),
        ("eto", "это"),
        ("yolka", "ёлка"),
        ("jolka", "ёлка"),
        ("ljubov'", "любовь"),
        ("lyubov", "любовь"),
        ("tsar'", "царь"),
        ("car'", "царь"),
        ("Iulia", "юлия"),
        ("Rossiia", "россия"),
        ('ob"yavlenie', "объявление"),
        ("žizn'", "жизнь"),
        ("ščuka", "щука"),
        ("šapka", "шапка"),
        ("čaj", "чай"),
        ("kak-to", "как-то"),
        ("po-russki", "по-русски"),
        ("shto", "что"),
    ],
)
def test_schemes_reach_the_reading(word: str, reading: str) -> None:
    assert reading in cyrillic_candidates(word)


def test_candidates_of_non_latin_are_empty() -> None:
    for word in ("", "漢字", "привет", "   ", "12345", "a" * 500, "!!!"):
        assert cyrillic_candidates(word) == []


@pytest.mark.parametrize(
    ("word", "cyr"),
    [
        ("privet", "привет"),
        ("Privet", "Привет"),
        ("PRIVET", "ПРИВЕТ"),
        ("pozhalujsta", "пожалуйста"),
        ("pozhaluysta", "пожалуйста"),
        ("delat'", "делать"),
        ("Zdravstvujte", "Здравствуйте"),
        ("khorosho", "хорошо"),
        ("horosho", "хорошо"),
        ("kak-to", "как-то"),
        ("po-russki", "по-русски"),
        ("nravitsya", "нравится"),
        ("pomosch", "помощь"),
        ("pomoshch'", "помощь"),
        ("shumersko", "шумерско"),
        ("priyatnoy", "приятной"),
        ("4to", "что"),
        ("eshche", "ещё"),
    ],
)
def test_to_cyrillic(word: str, cyr: str) -> None:
    got = to_cyrillic(word)
    assert got is not None and same(got, cyr)


@pytest.mark.parametrize(
    "word", ["xyzzyq", "pipeline", "Dijkstra", "Minecraft", "", "漢字", "watashi", "onegaishimasu"]
)
def test_to_cyrillic_none_when_unknown(word: str) -> None:
    assert to_cyrillic(word) is None


# ------------------------------------------------------------------------- robustness


def test_malformed_input_never_raises(det: TranslitDetector) -> None:
    bad: list = [
        None,
        5,
        "privet",
        (1, 2),
        (None, None, None),
        (0, 6, None),
        (0, 6, b"x"),
        (-5, -1, "privet"),
        (10, 4, "kak"),
        ("a", "b", "dela"),
        (0, 0, ""),
        (0, 3, "\x00\ud800"),
        (0, 10**12, "x" * 10_000),
    ]
    assert isinstance(det.find(bad), list)
    assert det.find([]) == []
    assert det.find(None) == []  # type: ignore[arg-type]
    assert det.find(iter([(0, 7, "spasibo")])) != []  # type: ignore[arg-type]
    assert to_cyrillic(None) is None  # type: ignore[arg-type]
    assert cyrillic_candidates(None) == []  # type: ignore[arg-type]
    assert cyrillic_candidates("privet", limit=0) == []


def test_unknown_language_finds_nothing() -> None:
    for lang in ("xx", "../../etc/passwd", "", "RU", None):
        assert TranslitDetector(lang).find([(0, 7, "spasibo")]) == []  # type: ignore[arg-type]


_latin_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCZŽžščŝ'’-346", min_size=0, max_size=25)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-5, 200), st.integers(-5, 200), st.one_of(_latin_word, st.text(max_size=12))
        ),
        max_size=12,
    )
)
def test_find_never_raises(words: list[tuple[int, int, str]]) -> None:
    hits = TranslitDetector().find(words)
    assert isinstance(hits, list)
    for h in hits:
        assert isinstance(h, TranslitHit) and 0.0 < h.confidence <= 1.0
        assert (h.start, h.end, h.text) in words


@settings(max_examples=300, deadline=None)
@given(st.one_of(_latin_word, st.text(max_size=30)), st.integers(-3, 100))
def test_candidates_never_raise(word: str, limit: int) -> None:
    cands = cyrillic_candidates(word, limit)
    assert len(cands) <= max(limit, 0)
    result = to_cyrillic(word)
    assert result is None or isinstance(result, str)


# ------------------------------------------------------------------- cheap import, speed


def test_import_is_cheap() -> None:
    """Loading the module reads no data and imports neither pymorphy3 nor wordfreq."""
    code = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("translit_probe", {str(MODULE)!r})
        mod = importlib.util.module_from_spec(spec)
        sys.modules["translit_probe"] = mod
        spec.loader.exec_module(mod)
        det = mod.TranslitDetector()
        assert "pymorphy3" not in sys.modules and "wordfreq" not in sys.modules
        assert mod._load_scheme.cache_info().currsize == 0
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_data_file_is_complete() -> None:
    import tomllib

    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    assert {"bgn_pcgn", "icao_9303", "iso9", "gost_7_79_b", "scholarly"} <= set(raw["schemes"])
    spec = importlib.util.spec_from_file_location("translit_data_probe", MODULE)
    assert spec is not None
    from langlock.text.detectors.translit.scheme import _load_scheme

    sch = _load_scheme("ru")
    assert sch is not None
    reachable = {o.cyr for opts in sch.options.values() for o in opts for _ in [0]}
    letters = set("".join(reachable))
    assert set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя") <= letters
    assert all(o.cost >= 0 for opts in sch.options.values() for o in opts)


def test_thresholds_live_in_the_data_file() -> None:
    import tomllib

    from langlock.text.detectors.translit import scheme as translit

    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))
    assert set(translit._DEFAULT_THRESHOLDS) <= set(raw["detector"])


def _clear_caches(mod: types.ModuleType) -> None:
    for fn in (mod._lexicon, mod._best_reading, mod._evidence):
        fn.cache_clear()


def test_exact_lookup_fallback_when_dawg_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """If pymorphy3's DAWG internals change, readings still come through word_is_known."""
    from langlock.text.detectors.translit import readings as translit

    morph = translit._morph("ru")
    lex = translit._Lexicon(lambda w: bool(morph.word_is_known(w, strict=True)))
    _clear_caches(translit)
    monkeypatch.setattr(translit, "_lexicon", lambda lang: lex)
    try:
        assert to_cyrillic("pozhaluysta") == "пожалуйста"
        assert to_cyrillic("zhizn") == "жизнь"
        assert [h.cyrillic for h in hits_of(TranslitDetector(), "ya ne znayu")] == [
            "я",
            "не",
            "знаю",
        ]
    finally:
        monkeypatch.undo()
        _clear_caches(translit)


def test_no_lexicon_means_no_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    from langlock.text.detectors.translit import readings as translit

    _clear_caches(translit)
    monkeypatch.setattr(translit, "_morph", lambda lang: None)
    try:
        assert TranslitDetector().find([(0, 7, "spasibo")]) == []
        assert to_cyrillic("spasibo") is None
        assert cyrillic_candidates("spasibo")[0] == "спасибо"  # schemes need no lexicon
    finally:
        monkeypatch.undo()
        _clear_caches(translit)


def test_cache_serves_repeated_words(det: TranslitDetector) -> None:
    """A word seen before is answered from the cache: far cheaper than a fresh one (a
    relative check; absolute speed belongs to the benchmarks)."""
    from wordfreq import top_n_list

    det.find([(0, 6, "privet")])  # load the lexicons
    fresh = [w for w in top_n_list("en", 40000)[30000:30400] if w.isalpha()]
    start = time.perf_counter()
    for i, w in enumerate(fresh):
        det.find([(i * 20, i * 20 + len(w), w)])
    per_word = (time.perf_counter() - start) / len(fresh)
    start = time.perf_counter()
    for i, w in enumerate(fresh):
        det.find([(i * 20, i * 20 + len(w), w)])
    cached = (time.perf_counter() - start) / len(fresh)
    assert cached < per_word / 3


# ------------------------------------------------------------------ precision / recall


def test_report_precision_recall(det: TranslitDetector) -> None:
    """Word-level precision/recall over all the lists above (printed with ``-s``)."""
    tp = fn = wrong_fix = 0
    for text, expected in POSITIVES:
        got = {h.start: h for h in hits_of(det, text)}
        for (start, _, _), cyr in zip(latin_words(text), expected.split(), strict=True):
            if cyr == "?":
                continue
            if start in got:
                tp += 1
                wrong_fix += not same(got[start].cyrillic, cyr)
            else:
                fn += 1
    lone_tp = sum(1 for text, _ in LONE_POSITIVES if hits_of(det, text))
    fp = negatives = 0
    per_set: dict[str, tuple[int, int]] = {}
    for name, texts in [("english_random", english_sentences()), *NEGATIVE_SETS.items()]:
        words = sum(len(latin_words(t)) for t in texts)
        false = sum(len(hits_of(det, t)) for t in texts)
        per_set[name] = (false, words)
        fp += false
        negatives += words
    tp_all = tp + lone_tp
    precision = tp_all / (tp_all + fp)
    recall = tp / (tp + fn)
    print(
        f"\ntranslit phrases: recall {tp}/{tp + fn} = {recall:.3f}, "
        f"wrong fixes {wrong_fix}; lone words {lone_tp}/{len(LONE_POSITIVES)}"
    )
    print(f"translit negatives: {fp} false hits in {negatives} words; precision {precision:.3f}")
    for name, (false, words) in per_set.items():
        print(f"  {name}: {false}/{words}")
    assert precision >= 0.99
    assert recall >= 0.95
    assert wrong_fix <= 2
    assert lone_tp >= len(LONE_POSITIVES) - 1
