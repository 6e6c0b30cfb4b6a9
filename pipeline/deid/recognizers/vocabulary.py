"""Word classes the shape recognizers share: head nouns of places and organizations,
words that are capitalized without naming anyone, and word frequency."""

from __future__ import annotations

import functools

#: Last words that make a capitalized phrase a place ("Sherman Park", "Dixie Highway").
PLACE_HEADS = frozenset(
    "park parks avenue ave street st road rd boulevard blvd drive dr lane ln highway hwy "
    "parkway pkwy pike trail beach lake lakes creek river falls gorge valley mountain mountains "
    "hill hills heights square plaza mall field fields stadium arena forum downs grounds "
    "cemetery gardens garden zoo museum lanes diner cafe café restaurant kitchen grill bar "
    "tavern pub bakery market pizza pizzeria taqueria karaoke theater theatre cinema cinemas "
    "bowl landing point station village island bay harbor harbour springs woods forest terrace "
    "concourse crossing commons estates acres manor towers apartments homes county township "
    "dells gap knob hollow holler ridge bend shores hotel inn motel lodge casino brewery "
    "kingdom world center centre".split()
)
#: Last words that make a capitalized phrase an organization ("Seven Counties Services").
ORG_HEADS = frozenset(
    "house clubhouse club foundation hospital clinic college university school high academy "
    "church parish chapel tabernacle temple mosque synagogue cathedral ministries ministry "
    "fellowship society association alliance council coalition network partners group "
    "services service agency department office division bureau authority commission library "
    "branch bank company co inc corp llc foods insurance health healthcare program programs "
    "institute army union cooperative co-op shelter mission pantry center centre".split()
)
#: Capitalized words that name no one: fillers, pronouns, calendar, faith, family words.
NOT_NAMES = frozenset(
    "i i'm i'd i'll i've ok okay mm mm-hm mhm uh um uh-huh yeah yes no oh ah hey hi hello "
    "bye god jesus christ lord allah bible mass lent ramadan eid christmas thanksgiving easter "
    "halloween hanukkah kwanzaa passover mom dad mama papa ma pa grandma grandpa granny nana "
    "sir ma'am miss mister mr mrs ms dr doctor monday tuesday wednesday thursday friday "
    "saturday sunday january february march april may june july august september october "
    "november december tv dvd cd ok sat act ged ssi ssdi snap ebt wic medicaid medicare "
    "covid ptsd adhd ocd er icu id ids aa na usa us u.s. america american americans "
    "facebook instagram netflix youtube tiktok google zoom uber lyft amazon iphone android "
    "twitter snapchat whatsapp spotify hulu xbox playstation nintendo walkman "
    "english spanish french german italian polish russian chinese mandarin cantonese "
    "japanese korean vietnamese hmong somali arabic hindi urdu bengali punjabi tagalog "
    "filipino haitian creole portuguese greek irish mexican puerto rican dominican cuban "
    "african latino latina latinx hispanic asian native indian european jewish muslim "
    "catholic christian baptist methodist lutheran protestant orthodox pentecostal "
    "black white democrat democrats republican republicans día dia muertos los de la "
    "coke pepsi sprite".split()
)


@functools.lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """How common a word is (Zipf scale: 6 = "the", 3 = once per million words)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en")
