"""The tag vocabulary as concepts with their synonyms: what a person types to find a photo again.

Every caption word is normalised by :mod:`~photo_tagger.training.captions` (stop words out, lemmatised); a caption
names a concept when one of its words is among the concept's words. A concept is a tag for an image when at least two
of its captions name it, and it enters the vocabulary when at least 20 images have it.

Why concepts rather than every content word: captions name many things in passing that are in nearly every photo
and therefore say little when they are named or not ("a man in a red *shirt*", "a dog with a ball in its *mouth*",
"a boy *standing*"). A word left unnamed is not a word absent, so tags like shirt, mouth, hand, stand or carry have
labels that are mostly noise and are not what anyone searches a photo library for. The concepts follow the
categories photo taggers are usually trained on and users search by: the paper's MIRFLICKR-25k concepts (people,
animals, dog, bird, car, flower, tree, sky, sea, lake, river, water, night, sunset, structures...), COCO's objects
(bicycle, bench, ball, frisbee, kite, skateboard, umbrella...), scenes (beach, snow, mountain, forest, street, park,
playground, pool...), who is in the photo (man, woman, boy, girl, child, baby, crowd) and sports and activities
(soccer, skiing, surfing, swimming, climbing...). Left out on purpose: parts of the body, clothing, posture and
motion verbs (stand, sit, walk, run, jump, play), and light verbs. Every content word (with its implied tags) is
still kept per image as an *open* label, which evaluation uses to judge tags outside the vocabulary, and
``--tags words`` trains on all content words instead.

Broader concepts list their narrower words, so captions that say the same thing differently agree: a skier is on
snow, a puppy is a dog and an animal, a lake is water, every word for a person names ``people``.
"""

from __future__ import annotations

_PEOPLE = """man woman boy girl child kid toddler baby infant people crowd audience spectator player skier surfer
skateboarder snowboarder climber hiker cyclist rider swimmer runner dancer family team worker musician athlete
soldier policeman bride groom teenager teen adult tourist performer singer guitarist drummer motorcyclist
wrestler boxer footballer goalie pitcher batter cowboy clown fan jockey kayaker fisherman referee"""
_DOGS = """dog puppy pup greyhound poodle terrier collie retriever labrador dalmatian beagle husky bulldog pug
chihuahua spaniel dachshund rottweiler pitbull sheepdog hound mutt corgi schnauzer shepherd"""
_BIRDS = "bird duck goose gull seagull pigeon swan chicken owl eagle parrot hen rooster"
_ANIMALS = f"""animal {_DOGS} {_BIRDS} cat kitten horse pony foal cow bull cattle calf sheep lamb goat pig camel
elephant deer"""
_WATER = "water sea lake pond river stream creek pool wave waterfall fountain puddle surf surfer surfboard splash"
_SPORT = """sport player team game match soccer football basketball baseball tennis hockey volleyball rugby lacrosse
golf softball referee goalie athlete pitcher batter footballer"""

CONCEPTS: dict[str, str] = {
    # who
    "people": _PEOPLE,
    "man": "man",
    "woman": "woman",
    "boy": "boy",
    "girl": "girl",
    "child": "child kid toddler boy girl youngster",
    "baby": "baby infant",
    "crowd": "crowd audience spectator",
    # animals
    "animal": _ANIMALS,
    "dog": _DOGS,
    "puppy": "puppy pup",
    "cat": "cat kitten",
    "horse": "horse pony foal",
    "bird": _BIRDS,
    "cow": "cow bull cattle calf",
    "sheep": "sheep lamb",
    # places and scenery
    "beach": "beach shore coast",
    "sea": "sea",
    "wave": "wave",
    "lake": "lake pond",
    "river": "river stream creek",
    "pool": "pool",
    "fountain": "fountain",
    "waterfall": "waterfall",
    "water": _WATER,
    "snow": "snow snowball snowman snowbank ski skier snowboard snowboarder sled",
    "ice": "ice",
    "mountain": "mountain peak summit",
    "hill": "hill slope",
    "rock": "rock boulder stone",
    "cliff": "cliff",
    "forest": "forest",
    "tree": "tree",
    "grass": "grass lawn",
    "field": "field meadow",
    "sand": "sand",
    "dirt": "dirt mud",
    "mud": "mud",
    "desert": "desert",
    "sky": "sky cloud",
    "sunset": "sunset sunrise dusk",
    "night": "night nighttime",
    "street": "street",
    "road": "road highway",
    "sidewalk": "sidewalk",
    "city": "city downtown urban",
    "building": "building house skyscraper tower",
    "bridge": "bridge",
    "park": "park",
    "playground": "playground",
    "trail": "trail path",
    "fence": "fence",
    "stairs": "stairs",
    "flower": "flower bouquet",
    # things
    "bicycle": "bicycle cyclist bmx",
    "motorcycle": "motorcycle motorcyclist",
    "car": "car jeep taxi suv",
    "bus": "bus",
    "truck": "truck",
    "train": "train",
    "boat": "boat kayak canoe raft sailboat ship",
    "ball": "ball",
    "frisbee": "frisbee",
    "kite": "kite",
    "toy": "toy",
    "umbrella": "umbrella",
    "bench": "bench",
    "chair": "chair",
    "table": "table",
    "bed": "bed",
    "camera": "camera photographer",
    "phone": "phone",
    "guitar": "guitar guitarist",
    "flag": "flag",
    "balloon": "balloon",
    "bubble": "bubble",
    "tent": "tent",
    "fire": "fire bonfire campfire",
    "food": "food pizza sandwich cake bread fruit meal",
    # sports and activities
    "sport": _SPORT,
    "soccer": "soccer",
    "football": "football",
    "basketball": "basketball",
    "baseball": "baseball softball",
    "tennis": "tennis",
    "hockey": "hockey",
    "skiing": "ski skier",
    "snowboarding": "snowboard snowboarder",
    "surfing": "surf surfer surfboard",
    "skateboarding": "skateboard skateboarder",
    "swimming": "swim swimmer",
    "climbing": "climb climber",
    "hiking": "hike hiker",
    "dancing": "dance dancer",
    "fishing": "fishing fisherman",
    "racing": "race racer marathon",
    "music": "music musician guitar guitarist drum drummer band concert singer microphone",
}

WORD_CONCEPTS: dict[str, tuple[str, ...]] = {}
for _concept, _words in CONCEPTS.items():
    for _word in _words.split():
        WORD_CONCEPTS[_word] = (*WORD_CONCEPTS.get(_word, ()), _concept)


def concepts_named(words: set[str]) -> set[str]:
    """The concepts a caption names, given its normalised words (:func:`captions.caption_tags`)."""
    return {concept for word in words for concept in WORD_CONCEPTS.get(word, ())}
