"""Caption text -> tags, as the paper prepares its words: stop words out, lemmatised, synonyms merged.

One caption becomes the set of tags it *names*::

    caption_tags("Two little boys are riding their bikes on the beach .")
    # {"boy", "ride", "bicycle", "beach", "people"}

Steps, in order (each table below is short and says why it exists):

0. ``PHRASES`` rewrites a few two-word names whose words alone would name the wrong thing: a dog with a *tennis
   ball* is not playing tennis, a *dirt bike* is a motorcycle, *ice cream* is not ice;
1. lower-case words of letters only; stop words (function words) and single letters dropped;
2. ``SURFACE_SYNONYMS`` on the word as written, for forms the lemmatiser must not see (``woods`` is a forest,
   not wood; ``snowy`` names snow);
3. :func:`~photo_tagger.training.lemmas.lemmatise` (``puppies`` -> ``puppy``, ``running`` -> ``run``);
4. ``SYNONYMS`` merges words that name the same thing into one tag (``bike`` -> ``bicycle``, ``ocean`` -> ``sea``);
5. ``NOT_TAGS`` (checked on the word as written and on its lemma) and ``LEMMA_COLLISIONS`` (on the word as
   written) drop words that describe rather than name:
   colours, numbers, sizes and ages, places relative to something else (``front``, ``side``), and light verbs
   (``wear``, ``hold``, ``look``), and inflections whose lemma is another word's noun (``parked`` is not a
   park, ``waving`` is not a wave). A colour is a fact about a
   shirt, not about the photo; "in front of" says nothing about what is in it;
6. ``IMPLIES`` adds the broader tags a word entails, so captions that say the same thing in different words agree:
   every word for a person implies ``people`` (the tag users type to find photos with people in them, and the word
   the detector's ``person`` maps onto), ``puppy`` implies ``dog``, animals imply ``animal``, bodies of water imply
   ``water``, ``skier`` implies ``ski``.

Man, woman, boy, girl, child and baby stay distinct tags: they are visibly different and people search for them.
``person`` and ``people`` merge into ``people``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from photo_tagger.training.lemmas import lemmatise, words

STOP_WORDS = words("""
a about above across after again against all along also am among an and any are around as at away be been before
behind being below beneath beside besides between both but by can could did do does doing down during each either
else etc even ever every few for from further had has have having he her here hers herself him himself his how i
if in inside into is it its itself just me more most much my near nearby neither next no nor not now of off on once
only onto or other others our ours out outside over own past per same she should so some such than that the their
theirs them themselves then there these they this those though through throughout to together too toward towards
under underneath until up upon us very via was we were what when where whether which while who whom whose why will
with within without would yet you your yours
""")

# Two-word names -> the one word that names what is in the photo (matched on whole words, lower case). Counts in
# Flickr8k's captions: tennis ball 223, soccer ball 214, dirt bike 148, swimming pool 136, mountain bike 62, swim(ming)
# trunks 63, parking lot 52, baseball cap/hat 35, ice cream 30, fire hydrant 9.
PHRASES = {
    "tennis ball": "ball", "tennis balls": "balls", "soccer ball": "ball", "soccer balls": "balls",
    "baseball cap": "cap", "baseball hat": "hat", "swimming trunks": "trunks", "swim trunks": "trunks",
    "swimming pool": "pool", "mountain bike": "bicycle", "mountain biker": "cyclist", "mountain bikers": "cyclists",
    "dirt bike": "motorcycle", "dirt bikes": "motorcycles", "dirt biker": "motorcyclist",
    "dirt bikers": "motorcyclists", "parking lot": "parkinglot", "ice cream": "icecream", "fire hydrant": "hydrant",
    "sheep dog": "sheepdog", "pit bull": "pitbull",
}  # fmt: skip
_PHRASE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PHRASES), key=len, reverse=True)) + r")\b")

SURFACE_SYNONYMS = {
    "woods": "forest", "wooded": "forest", "snowy": "snow", "grassy": "grass", "rocky": "rock", "sandy": "sand",
    "muddy": "mud", "laying": "lie", "lays": "lie", "lay": "lie", "persons": "people", "cell": "phone",
    "rollerblading": "rollerblade", "lounging": "lounge", "charging": "charge",
}  # fmt: skip

SYNONYMS = {
    "person": "people", "guy": "man", "gentleman": "man", "lady": "woman", "kid": "child", "youngster": "child",
    "bike": "bicycle", "bicyclist": "cyclist", "biker": "cyclist", "motorbike": "motorcycle", "ocean": "sea",
    "doggy": "dog", "doggie": "dog", "pup": "puppy", "cellphone": "phone", "telephone": "phone", "automobile": "car",
    "stair": "stairs", "staircase": "stairs", "stairway": "stairs", "jog": "run", "sprint": "run",
    "footpath": "path", "pathway": "path", "seashore": "beach", "seaside": "beach", "pond": "lake",
    "skateboarding": "skateboard", "snowboarding": "snowboard",
    "hillside": "hill", "mountainside": "mountain", "pavement": "sidewalk", "bmx": "bicycle",
}  # fmt: skip

NOT_TAGS = words("""
white black red brown blue yellow green pink orange purple tan grey gray blonde blond gold golden silver dark light
colorful colourful multicolored striped spotted plaid bright
one two three four five six seven eight nine ten twelve several many lot couple group pair bunch number
young little small large big old older tall long short high low wet dry tiny huge giant
another some such same different various other
front side top bottom middle back edge end area part way background foreground center centre distance air
midair corner row line view shot scene picture photo image something thing someone somebody
be have do go get make take give put use try wear hold look watch see wait appear seem come let dress cover
haired color colour shape crowded covered dressed upside wooden asian set open
""")

# Inflections the lemmatiser would turn into a concept's noun although they do not name it.
LEMMA_COLLISIONS = words("""
parked parking waving training trained firing rocking coasting trailing streaming peaking
""")

PEOPLE_WORDS = words("""
man woman boy girl child baby toddler people crowd player skier surfer skateboarder snowboarder climber hiker
cyclist rider swimmer runner dancer family team worker musician athlete soldier policeman bride groom teenager
teen adult tourist spectator audience performer singer guitarist drummer biker motorcyclist wrestler boxer
footballer goalie pitcher batter cowboy clown fan jockey kayaker fisherman
""")
ANIMAL_WORDS = words("""
dog puppy cat kitten horse pony bird duck goose chicken cow calf sheep lamb goat pig camel elephant deer
""")
WATER_WORDS = words("sea lake river stream pool wave waterfall fountain surf")

IMPLIES: dict[str, tuple[str, ...]] = {
    **{word: ("people",) for word in PEOPLE_WORDS if word != "people"},
    **{word: ("animal",) for word in ANIMAL_WORDS},
    **{word: ("water",) for word in WATER_WORDS},
    "puppy": ("dog", "animal"), "kitten": ("cat", "animal"), "toddler": ("child", "people"),
    "skateboarder": ("skateboard", "people"), "snowboarder": ("snowboard", "people"), "skier": ("ski", "people"),
    "surfer": ("surf", "people"), "climber": ("climb", "people"), "hiker": ("hike", "people"),
    "swimmer": ("swim", "people"), "runner": ("run", "people"), "cyclist": ("bicycle", "people"),
    "surfboard": ("surf",), "motorcyclist": ("motorcycle", "people"),
}  # fmt: skip

_WORD = re.compile(r"[a-z]+")


def normalise_word(word: str) -> str | None:
    """One lower-case word -> its tag, or None when it is not a tag (stop word, colour, light verb...)."""
    if len(word) < 2 or word in STOP_WORDS or word in NOT_TAGS or word in LEMMA_COLLISIONS:
        return None
    word = SURFACE_SYNONYMS.get(word, word)
    lemma = lemmatise(word)
    lemma = SYNONYMS.get(lemma, lemma)
    if lemma in STOP_WORDS or lemma in NOT_TAGS or len(lemma) < 2:
        return None
    return lemma


def caption_tags(caption: str) -> set[str]:
    """The tags one caption names, implied tags included (see the module docstring)."""
    tags: set[str] = set()
    text = _PHRASE.sub(lambda match: PHRASES[match.group(1)], caption.lower())
    for word in _WORD.findall(text):
        tag = normalise_word(word)
        if tag is not None:
            tags.add(tag)
            tags.update(IMPLIES.get(tag, ()))
    return tags


def normalise_tag(text: str) -> str | None:
    """A tag from another source (a user tag, a detector class, a hierarchy tag) in the captions' terms.

    One word goes through :func:`normalise_word` (``person`` -> ``people``, ``bike`` -> ``bicycle``); a phrase is
    kept as a phrase, lower-cased, with single spaces (``hot dog``).
    """
    words = _WORD.findall(text.lower())
    if len(words) == 1:
        return normalise_word(words[0])
    return " ".join(words) or None


def agreed_tags(tag_sets: Iterable[set[str]], min_captions: int = 2) -> set[str]:
    """Tags named by at least ``min_captions`` of one image's captions (each caption counts once per tag)."""
    counts: dict[str, int] = {}
    for tags in tag_sets:
        for tag in tags:
            counts[tag] = counts.get(tag, 0) + 1
    return {tag for tag, n in counts.items() if n >= min_captions}


def image_tags(captions: Iterable[str], min_captions: int = 2) -> set[str]:
    """Content words (with implied tags) named by at least ``min_captions`` of one image's captions."""
    return agreed_tags((caption_tags(c) for c in captions), min_captions)
