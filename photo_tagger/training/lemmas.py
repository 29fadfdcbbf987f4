"""A small rule-based English lemmatiser for caption words: suffix rules plus a table of irregular forms.

Captions are short present-tense descriptions ("Two dogs are running through the snow"), so plural nouns and verb
forms in -s, -ing and -ed cover nearly every inflection; the irregular table covers the rest (``men``, ``ran``,
``leaves``). Without a part-of-speech tagger the rules cannot know that ``building`` is a noun, so nouns that end
in -ing and words that only look plural (``glasses``, ``shorts``) are listed as kept forms. The table was checked
against WordNet 3.0's exception lists (``/usr/share/wordnet/noun.exc``, ``verb.exc``): the tests compare this
lemmatiser with WordNet on every caption word those lists contain. Examples::

    lemmatise("puppies") -> "puppy"      lemmatise("beaches") -> "beach"     lemmatise("running") -> "run"
    lemmatise("riding")  -> "ride"       lemmatise("women")   -> "woman"     lemmatise("building") -> "building"
"""

from __future__ import annotations

from functools import lru_cache


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a table written as text (easier to read and edit than a list)."""
    return frozenset(text.split())


_IRREGULAR_TEXT = """
men man women woman children child feet foot teeth tooth mice mouse geese goose oxen ox lice louse dice die
leaves leaf knives knife wolves wolf shelves shelf wives wife lives life calves calf halves half scarves scarf
hooves hoof loaves loaf thieves thief elves elf selves self buses bus heroes hero tomatoes tomato
potatoes potato volcanoes volcano echoes echo mosquitoes mosquito cacti cactus fungi fungus
ran run sat sit swam swim rode ride ridden ride threw throw thrown throw caught catch flew fly flown fly ate eat
eaten eat fell fall fallen fall held hold stood stand wore wear worn wear drove drive driven drive took take
taken take gave give given give made make went go gone go goes go sang sing sung sing dug dig hung hang
spun spin slid slide lying lie dying die tying tie lit light led lead fed feed fought fight bought buy
brought bring ate eat sped speed swung swing struck strike began begin begun begin won win met meet
saw see seen see stuck stick wrote write written write kept keep slept sleep knelt kneel bent bend built build
sent send spent spend left leave lay lie laid lay raising raise leaving leave using use serving serve
chosen choose froze freeze frozen freeze shook shake shaken shake blew blow blown blow grew grow grown grow
am be are be is be was be were be been be has have had have did do done do got get gotten get beaten beat
bitten bite broken break burnt burn drawn draw flung fling found find heard hear hidden hide mown mow
overgrown overgrow risen rise rung ring sewn sew shown show spoke speak strewn strew swept sweep taught teach
thought think torn tear woven weave bookshelves bookshelf frolicking frolic picnicking picnic panicking panic
mimicking mimic skis ski taxis taxi bikinis bikini safaris safari khakis khaki kiwis kiwi yetis yeti
"""
_PAIRS = _IRREGULAR_TEXT.split()
IRREGULAR: dict[str, str] = dict(zip(_PAIRS[0::2], _PAIRS[1::2], strict=True))

# Words the suffix rules would damage: nouns ending in -ing/-ed/-s, and words that only look plural.
KEPT_FORMS = words("""
building clothing ceiling railing painting wedding evening morning something nothing everything anything sibling
stocking bedding pudding icing frosting awning lightning siding fishing boxing bowling wrestling swimsuit
glasses sunglasses goggles shorts pants jeans trousers trunks clothes stairs scissors binoculars headphones
overalls tights woods news series species physics canvas atlas christmas lens chess dress grass glass bus tennis
gas yes this its his hers ours yours always sometimes perhaps towards upwards backwards downwards afterwards
sled bed red shed need speed seed weed feed breed
""")


def _has_vowel(text: str) -> bool:
    return any(ch in "aeiouy" for ch in text)


def _vowel_groups(text: str) -> int:
    groups, previous = 0, False
    for ch in text:
        vowel = ch in "aeiou"
        groups += vowel and not previous
        previous = vowel
    return groups


def _restore_stem(stem: str) -> str:
    """The verb behind an -ing/-ed stem: undouble (runn -> run), or add back a silent e (rid -> ride)."""
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouylsz":
        return stem[:-1]  # running, swimming, sledding; but rolling, kissing, buzzing keep their pair
    if stem.endswith("ll") and _vowel_groups(stem) >= 2:
        return stem[:-1]  # British travelling, pedalling, rappelling (one syllable keeps it: rolling, falling)
    if stem.endswith(("c", "v", "z", "dg", "us")):
        return stem + "e"  # dancing, diving, grazing, judging, using
    if len(stem) > 2 and stem[-1] == "l" and stem[-2] in "bdfgkpstz":
        return stem + "e"  # wrestling, juggling, paddling
    consonant_vowel_consonant = (
        len(stem) >= 3 and stem[-1] not in "aeiouwxy" and stem[-2] in "aeiou" and stem[-3] not in "aeiou"
    )
    if consonant_vowel_consonant and len(stem) <= 4 and _vowel_groups(stem) == 1:
        return stem + "e"  # riding, skating, smiling, hiking, posing (one short syllable: CVC + e)
    return stem


@lru_cache(maxsize=65536)
def lemmatise(word: str) -> str:
    """The dictionary form of one lower-case word (noun singular, verb infinitive); unknown shapes come back as is."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    if word in KEPT_FORMS or len(word) <= 3:
        return word
    if word.endswith("ing") and len(word) > 5 and _has_vowel(word[:-3]):
        return _restore_stem(word[:-3])
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"  # carried -> carry
    if word.endswith("ed") and len(word) > 4 and not word.endswith("eed") and _has_vowel(word[:-2]):
        stem = word[:-2]
        return stem if stem.endswith("e") else _restore_stem(stem)  # jumped, posed -> pos+e, stopped -> stop
    if word.endswith("ies"):
        return word[:-3] + "y" if len(word) > 4 else word[:-1]  # puppies -> puppy, ties -> tie
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]  # dresses, beaches, boxes, buzzes
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]  # dogs, horses, shoes, skis, waves
    return word
