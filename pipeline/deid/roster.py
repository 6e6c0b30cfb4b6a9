"""Finding the roster's names in transcript text: exact, contextual and phonetic.

- Full names, first names, surnames, aliases and nicknames, case-insensitive on
  word boundaries, with possessives; titles ("Dr.", "Miss", "Mister") join the span.
- Name parts that are also everyday words (Will, Grace, May, Bell) need support:
  the rest of the name next to them, a title or kinship word before them, or, in
  cased text, a capital letter away from the start of a sentence.
- Whisper mishears names ("David Chen" -> "David Kent", "Priya" -> "Pria"): a word
  that sounds like a roster name (Double Metaphone) and is spelt close to it, or
  an unknown word right after a roster first name or a title, is taken too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources

from rapidfuzz.distance import Levenshtein

from pipeline.deid.spoken import Span


@functools.lru_cache(maxsize=8)
def word_list(name: str) -> frozenset[str]:
    text = resources.files("pipeline.deid.data").joinpath(name).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def name_words() -> frozenset[str]:
    return word_list("name_words.txt")


def titles() -> frozenset[str]:
    return word_list("titles.txt")


def kin_words() -> frozenset[str]:
    return word_list("kin.txt")


@functools.lru_cache(maxsize=4096)
def sound(word: str) -> tuple[str, str]:
    from metaphone import doublemetaphone

    return doublemetaphone(word.lower())


WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
POSSESSIVE = re.compile(r"['’]s$|s['’]$", re.IGNORECASE)
#: Words that commonly follow a name in speech ("Rosa said", "my sister works ..."): not a surname.
AFTER_NAME = frozenset(
    "said says told asked came went was is has had will would could can did does do got gets "
    "goes called calls thinks thought knows knew wants wanted likes liked loves loved sat took "
    "takes made makes gave gives brought helped paid pays never always just also too both "
    "again all who that which because lives lived works worked passed died".split()
)
STOP = frozenset(
    "a an the and or but if so to of in on at for with from by as is was are were be been i "
    "you he she it we they me him her us them my your his our their this that these those "
    "there here what who how why when where which yeah yes no not um uh like just really "
    "very okay ok oh".split()
)


@dataclass
class Name:
    """One protected string and what it stands for."""

    text: str
    type: str  # ROSTER_PERSON, ORG or PLACE
    key: str  # person id, or the normalized string for organizations and places
    parts: list[str] = field(default_factory=list)


@dataclass
class Roster:
    """The session's protected names, ready for matching."""

    names: list[Name]

    @classmethod
    def build(
        cls, people: list[tuple[str, str, list[str]]], organizations: list[str], places: list[str]
    ) -> Roster:
        names: list[Name] = []
        for pid, full, aliases in people:
            for text in [full, *aliases]:
                names.append(Name(text, "ROSTER_PERSON", pid, text.lower().split()))
        names += [Name(o, "ORG", o.lower(), o.lower().split()) for o in organizations]
        names += [Name(p, "PLACE", p.lower(), p.lower().split()) for p in places]
        return cls(names)

    @functools.cached_property
    def person_tokens(self) -> dict[str, set[str]]:
        """Lowercase name part -> person ids it belongs to."""
        out: dict[str, set[str]] = {}
        for n in self.names:
            if n.type == "ROSTER_PERSON":
                for part in n.parts:
                    out.setdefault(part.strip(".,"), set()).add(n.key)
        return out

    @functools.cached_property
    def protected_terms(self) -> tuple[frozenset[str], frozenset[str]]:
        """(phrases, single words) the leak gate looks for, lowercase."""
        phrases, words = set(), set()
        for n in self.names:
            if len(n.parts) > 1:
                phrases.add(n.text.lower())
            if n.type != "ROSTER_PERSON":
                if len(n.parts) == 1:
                    words.add(n.text.lower())
                continue  # "Elm Street" protects the phrase, not every "street"
            words |= {p.strip(".,") for p in n.parts if len(p.strip(".,")) >= 2}
        return frozenset(phrases), frozenset(words)

    @functools.cached_property
    def phrase_patterns(self) -> list[re.Pattern[str]]:
        """The protected phrases as whole-word patterns (the gate scans many strings)."""
        return [
            re.compile(r"(?<![\w])" + re.escape(p) + r"(?![\w])") for p in self.protected_terms[0]
        ]

    @functools.cached_property
    def fuzzy_parts(self) -> list[tuple[str, set[str]]]:
        """Name parts that misheard words are compared with (not the everyday-word ones)."""
        return [
            (p, ids)
            for p, ids in self.person_tokens.items()
            if len(p) >= 3 and p not in name_words()
        ]

    @functools.cached_property
    def part_sounds(self) -> dict[str, set[str]]:
        return {p: {x for x in sound(p) if x} for p, _ in self.fuzzy_parts}

    @functools.cached_property
    def first_names(self) -> dict[str, str]:
        return {
            n.parts[0]: n.key for n in self.names if n.type == "ROSTER_PERSON" and len(n.parts) > 1
        }

    def phrases(self) -> list[Name]:
        """Multi-word names first: the longest match wins."""
        return sorted(
            (n for n in self.names if len(n.parts) > 1 or n.type != "ROSTER_PERSON"),
            key=lambda n: -len(n.text),
        )


@dataclass
class Token:
    text: str
    start: int
    end: int

    @functools.cached_property
    def low(self) -> str:
        """Lowercase, possessive dropped (read many times per token by the rules)."""
        return POSSESSIVE.sub("", self.text.lower())


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in WORD.finditer(text)]


def sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in '.?!\n"“'


def find_roster(
    text: str, roster: Roster, *, cased: bool, fuzzy: bool = True
) -> list[tuple[Span, str]]:
    """(span, key) for every roster person, organization and place mentioned in ``text``."""
    found: list[tuple[Span, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, kind: str, key: str, score: float) -> None:
        if any(a < end and start < b for a, b in taken):
            return
        taken.append((start, end))
        found.append((Span(start, end, kind, score), key))

    low = text.lower()
    for name in roster.phrases():
        pattern = r"(?<![\w])" + r"[\s,.-]+".join(re.escape(p) for p in name.parts) + r"(?![\w])"
        for m in re.finditer(pattern, low):
            add(m.start(), m.end(), name.type, name.key, 1.0)

    toks = tokens(text)
    words = name_words()
    for i, tok in enumerate(toks):
        ids = roster.person_tokens.get(tok.low)
        prev = toks[i - 1].low.rstrip(".") if i else ""
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if ids:
            supported = (
                tok.low not in words
                or prev in titles()
                or (nxt is not None and nxt.low in roster.person_tokens and nxt.low not in words)
                or (
                    nxt is not None
                    and tok.low in roster.first_names
                    and _sounds_like(nxt.low, roster)
                )
                or (cased and tok.text[0].isupper() and not sentence_start(text, tok.start))
                or used_as_name(text, toks, i, cased, roster)
            )
            if not supported:
                continue
            start = toks[i - 1].start if prev in titles() and i else tok.start
            key = sorted(ids)[0]
            end = tok.end
            # A roster first name followed by an unknown word: a (misheard) surname.
            # A roster first name followed by an unknown word, or by one that sounds like
            # the surname ("Tom Baker" for Tom Becker): a (misheard) surname.
            if (
                nxt is not None
                and tok.low in roster.first_names
                and not text[tok.end : nxt.start].strip()  # "Maria. Everybody": not a surname
                and nxt.low not in roster.person_tokens
                and (
                    _surname_like(nxt, cased, words)
                    or (
                        (not cased or nxt.text[0].isupper())
                        and _sounds_like(nxt.low, roster, everyday=True)
                    )
                )
            ):
                end = nxt.end
            add(start, _strip_possessive(text, start, end), "ROSTER_PERSON", key, 0.95)
        elif fuzzy and len(tok.low) >= 3 and tok.low not in STOP and tok.low not in words:
            match = _sounds_like(tok.low, roster)
            if match and (not cased or tok.text[0].isupper() or prev in titles()):
                start = toks[i - 1].start if prev in titles() and i else tok.start
                add(start, _strip_possessive(text, start, tok.end), "ROSTER_PERSON", match, 0.7)
    return found


MODALS = frozenset({"will", "may"})
DETERMINERS = frozenset(
    "the a an this that last next every each some any no his her my your our their its of "
    "in by whole such what".split()
)
NAME_BEFORE = frozenset(
    "and with to asked told called call met saw thank thanks hi hey bye said named says "
    "like including plus except into for from".split()
)
INTRO = (
    "i'm",
    "im",
    "i am",
    "this is",
    "it's",
    "its",
    "name is",
    "name's",
    "call me",
    "called me",
    "me and",
    "welcome back",
    "welcome",
    "thank you",
    "thanks",
)
PAST_IRREGULAR = frozenset(
    "came went said told got had was did made took gave sat ran brought bought thought knew "
    "found left felt kept met paid sent spent stood taught won wrote cried lost sang drove "
    "is has does doesn't didn't won't can't isn't wasn't hasn't wouldn't couldn't always "
    "never just also comes goes says knows wants likes loves gets calls makes takes sits "
    "brings organized planned started stopped asked called helped invited".split()
)
FUNCTION_AFTER = frozenset(
    "i you he she we they it be not have this that there so if my your his her our their "
    "the a an up down out to of period".split()
)
#: A name spoken to someone is followed by these ("grace you've been ...", "guy what about you").
VOCATIVE_NEXT = frozenset(
    "you you've you're you'll youve youre i i've i'm ive im what how why when tell thank "
    "thanks don't do did can could would we".split()
)


PRONOUN_NEXT = frozenset(
    "she he she's he's it's it you you've you're i i'd i'm we they so hey or one what how".split()
)
#: After these a noun is a word ("i hope she", "to be frank"), not a name.
PREV_BLOCK = frozenset(
    "i you we they he she to will would can could do don't does did not the a an of my your "
    "his her our their this that be is was".split()
)


def used_as_name(
    text: str, toks: list[Token], i: int, cased: bool, roster: Roster | None = None
) -> bool:
    """Whether a name that is also a word (will, grace, may) is used as a name here."""
    tok = toks[i]
    prev = toks[i - 1].low if i else ""
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    nlow = nxt.low if nxt else ""
    adjacent_prev = bool(i) and not text[toks[i - 1].end : tok.start].strip()
    before_text = text[max(0, tok.start - 12) : tok.start].lower().strip()
    turn_start = not text[: tok.start].strip() or text[: tok.start].rstrip().endswith("\n")
    names = roster.person_tokens if roster else {}
    if POSSESSIVE.search(tok.text):
        return tok.low not in MODALS or nlow not in FUNCTION_AFTER
    if any(before_text.endswith(x) for x in INTRO):
        return True
    if nxt is None or (
        re.match(r"\s*[\n.!?]", text[tok.end :]) and (turn_start or prev in NAME_BEFORE)
    ):
        return True  # "Mark." "thank you will"
    if re.match(r"\s*,", text[tok.end :]) and (turn_start or sentence_start(text, tok.start)):
        return True  # "Guy, what about you?"
    # Lists of names: "frank and will", "rosie jamal lucky".
    if (i >= 2 and prev == "and" and toks[i - 2].low in names) or (prev in names and adjacent_prev):
        return True
    if nlow == "and" and i + 2 < len(toks) and toks[i + 2].low in names:
        return True
    if nlow == tok.low and i + 2 < len(toks) and toks[i + 2].low in names:
        return True  # "may may lin"
    if prev in DETERMINERS and adjacent_prev:
        return False
    after = toks[i + 2].low if i + 2 < len(toks) else ""
    if tok.low in MODALS:
        return (
            nlow in PAST_IRREGULAR
            or nlow.endswith("ed")
            or nlow in ("thanks", "thank")
            or (nlow in ("and", "or") and prev not in PREV_BLOCK)
            # "may you mentioned ...": a name, then the sentence it starts
            or (nlow in PRONOUN_NEXT and (after in PAST_IRREGULAR or after.endswith("ed")))
            or prev in ("and", "with", "told", "asked", "thank", "thanks", "said", "into")
        )
    if nlow == "and" and after in DETERMINERS and prev not in PREV_BLOCK:
        return True  # "summer and a fella from ..."
    if nlow in PAST_IRREGULAR or (nlow.endswith("ed") and len(nlow) > 3):
        return True
    if nlow in VOCATIVE_NEXT and (
        turn_start
        or prev in ("so", "okay", "ok", "and", "well", "oh", "hey", "hi", "god")
        or not adjacent_prev
        or re.match(r"\s*,", text[tok.end :])
    ):
        return True
    if (
        nlow.endswith("s")
        and not nlow.endswith("ss")
        and len(nlow) > 3
        and nlow not in FUNCTION_AFTER
    ):
        return True  # "joy slips me the tab"
    if nlow in PRONOUN_NEXT and prev not in PREV_BLOCK:
        return True  # "hope she's been here", "guy one of our members"
    return prev in NAME_BEFORE and (nlow in ("and", "") or not cased)


def _strip_possessive(text: str, start: int, end: int) -> int:
    m = POSSESSIVE.search(text[start:end])
    return start + m.start() if m else end


def _surname_like(tok: Token, cased: bool, words: frozenset[str]) -> bool:
    if tok.low in STOP or tok.low in words or len(tok.low) < 2:
        return False
    return tok.text[0].isupper() if cased else tok.low not in AFTER_NAME


def _sounds_like(word: str, roster: Roster, everyday: bool = False) -> str | None:
    """The person whose name part ``word`` sounds and looks like (a mishearing).

    ``everyday``: ``word`` may be an everyday word ("Baker" after "Tom" for Tom Becker).
    """
    if not everyday and word in name_words():
        return None
    codes = {x for x in sound(word) if x}
    if len(word) <= 4 and not everyday:
        from pipeline.deid.truecase import zipf

        # A two-letter name part spelt another way ("Vee" for Vy): the same sound, and
        # the same first letter, only, and not an everyday word ("via").
        for part, ids in roster.person_tokens.items() if zipf(word) < 4.0 else ():
            if (
                len(part) == 2
                and part not in name_words()
                and part[0] == word[0]
                and codes
                and codes == {x for x in sound(part) if x}
            ):
                return sorted(ids)[0]
    for part, ids in roster.fuzzy_parts:
        if abs(len(part) - len(word)) > 4:
            continue
        same_sound = bool(codes & roster.part_sounds[part])
        if not same_sound and part[0] != word[0]:
            continue
        dist = Levenshtein.normalized_distance(word, part)
        if (same_sound and dist <= 0.4) or dist <= 0.2:
            return sorted(ids)[0]
    return None
