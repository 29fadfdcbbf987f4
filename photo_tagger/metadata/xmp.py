"""A small XMP packet model on ``xml.etree``: read and replace keyword bags, keep everything else as it was.

XMP is RDF/XML. Keywords live in two bags other tools agree on::

    <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
                     xmlns:lr="http://ns.adobe.com/lightroom/1.0/">
      <dc:subject><rdf:Bag><rdf:li>dog</rdf:li></rdf:Bag></dc:subject>
      <lr:hierarchicalSubject><rdf:Bag><rdf:li>animal|pet|dog</rdf:li></rdf:Bag></lr:hierarchicalSubject>
    </rdf:Description>

:class:`XmpDocument` parses a packet (a sidecar or one embedded in a photo), reads any array property, and replaces
one without touching other properties, namespaces, comments or processing instructions. It serialises the tree
itself, because ``ElementTree.tostring`` renames every namespace prefix it was not told about globally (``ns0:``),
which some XMP readers mishandle; here each namespace keeps the prefix the file gave it.

``xml.etree`` resolves no external entities and Python's expat refuses entity-expansion bombs, so a hostile file
fails to parse (:class:`XmpError`) rather than harming anything.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

X = "adobe:ns:meta/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
LR = "http://ns.adobe.com/lightroom/1.0/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# photo-tagger's own namespace: which keywords it wrote last time, so that a later write can take back the ones the
# user has since removed without touching keywords that came from elsewhere.
PHOTO_TAGGER = "https://phototagger.github.io/xmp/1.0/"
PREFIXES = {X: "x", RDF: "rdf", DC: "dc", LR: "lr", PHOTO_TAGGER: "phototagger"}

ARRAYS = ("Bag", "Seq", "Alt")
PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
PACKET_END = '\n<?xpacket end="w"?>\n'


class XmpError(ValueError):
    """The data is not an XMP packet this module can read (not XML, or no ``rdf:RDF``)."""


def q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


class XmpDocument:
    """One XMP packet as an element tree, with the namespace prefixes it was written with."""

    def __init__(self, root: ET.Element, prefixes: dict[str, str]) -> None:
        self.root = root
        self.prefixes = prefixes  # namespace URI -> prefix
        rdf = root if root.tag == q(RDF, "RDF") else root.find(q(RDF, "RDF"))
        if rdf is None:
            raise XmpError("no rdf:RDF element")
        self.rdf = rdf

    @classmethod
    def new(cls) -> XmpDocument:
        root = ET.Element(q(X, "xmpmeta"), {q(X, "xmptk"): "photo-tagger"})
        rdf = ET.SubElement(root, q(RDF, "RDF"))
        description = ET.SubElement(rdf, q(RDF, "Description"), {q(RDF, "about"): ""})
        root.text, rdf.text, description.tail, rdf.tail = "\n ", "\n  ", "\n ", "\n"
        return cls(root, {})

    @classmethod
    def parse(cls, data: bytes | str) -> XmpDocument:
        """Parse a packet; ``<?xpacket?>`` wrappers and padding around it are fine."""
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        raw = raw.strip(b"\x00 \t\r\n")
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        builder = _Builder()
        parser = ET.XMLParser(target=builder)
        try:
            parser.feed(raw)
            root = parser.close()
        except ET.ParseError as error:
            raise XmpError(f"not valid XML ({error})") from None
        if root.tag not in (q(X, "xmpmeta"), q(RDF, "RDF")):
            raise XmpError(f"the root element is {root.tag!r}, not x:xmpmeta or rdf:RDF")
        return cls(root, builder.prefixes)

    # -- reading -----------------------------------------------------------------------------------------------

    def descriptions(self) -> list[ET.Element]:
        return self.rdf.findall(q(RDF, "Description"))

    def array(self, namespace: str, name: str) -> list[str]:
        """The items of an array property (``dc:subject``), from every description; a plain value counts as one."""
        values: list[str] = []
        for description in self.descriptions():
            attribute = description.get(q(namespace, name))
            if attribute is not None:
                values.append(attribute)
            for prop in description.findall(q(namespace, name)):
                values += _items(prop)
        return [v.strip() for v in values if v and v.strip()]

    # -- writing -----------------------------------------------------------------------------------------------

    def set_array(self, namespace: str, name: str, values: Iterable[str], kind: str = "Bag") -> bool:
        """Make the property an ``rdf:<kind>`` of ``values`` (an empty list removes it); returns whether it changed.

        The property is replaced where it is (the first element holding it), so the file's order stays; other
        properties, and every other description, are left exactly as they were. A new property goes last into the
        first description.
        """
        values = list(values)
        if self.array(namespace, name) == values:
            return False
        holders = [d for d in self.descriptions() if d.get(q(namespace, name)) is not None
                   or d.find(q(namespace, name)) is not None]
        place = None  # (description, index, tail) of the first element form: where the new value goes
        for description in holders:
            description.attrib.pop(q(namespace, name), None)
            for prop in description.findall(q(namespace, name)):
                place = place or (description, list(description).index(prop), prop.tail)
                _remove(description, prop)
        if not values:
            return True
        prop = ET.Element(q(namespace, name))
        array = ET.SubElement(prop, q(RDF, kind))
        for value in values:
            ET.SubElement(array, q(RDF, "li")).text = value
        depth = 2 if self.root.tag == q(X, "xmpmeta") else 1
        if place is not None:
            description, index, tail = place
            description.insert(index, prop)
            if index == len(description) - 1 and index > 0:  # last again: _remove gave its tail to the one before
                prop.tail, description[index - 1].tail = description[index - 1].tail, tail
            else:
                prop.tail = tail
        else:
            description = holders[0] if holders else self._first_description()
            description.append(prop)
            _place_last(description, depth)
        _layout(prop, depth)
        return True

    def _first_description(self) -> ET.Element:
        descriptions = self.descriptions()
        if descriptions:
            return descriptions[0]
        description = ET.SubElement(self.rdf, q(RDF, "Description"), {q(RDF, "about"): ""})
        description.tail = "\n"
        return description

    def serialize(self) -> bytes:
        """The packet as UTF-8 XML inside an ``<?xpacket?>`` wrapper, every namespace declared on the root."""
        prefixes = self._all_prefixes()
        parts: list[str] = [PACKET_BEGIN]
        _write(self.root, prefixes, parts, declare=True)
        parts.append(PACKET_END)
        return "".join(parts).encode("utf-8")

    def _all_prefixes(self) -> dict[str, str]:
        """URI -> prefix for every namespace used: the file's own prefixes, the usual ones, then made-up ones."""
        used: dict[str, None] = {}
        for element in self.root.iter():
            if isinstance(element.tag, str):
                for name in (element.tag, *element.attrib):
                    if name.startswith("{"):
                        used[name[1:].split("}", 1)[0]] = None
        prefixes: dict[str, str] = {XML_NS: "xml"}
        taken = {"xml"}
        for uri in used:
            if uri == XML_NS:
                continue
            wanted = [p for p in (self.prefixes.get(uri), PREFIXES.get(uri)) if p]  # "" (a default ns) is skipped
            prefix = next((p for p in wanted if p not in taken), None)
            n = 0
            while prefix is None or prefix in taken:
                n += 1
                prefix = f"ns{n}"
            prefixes[uri] = prefix
            taken.add(prefix)
        return prefixes


class _Builder(ET.TreeBuilder):
    """A tree builder that keeps comments and processing instructions and notes each namespace's prefix."""

    def __init__(self) -> None:
        super().__init__(insert_comments=True, insert_pis=True)
        self.prefixes: dict[str, str] = {}

    def start_ns(self, prefix: str, uri: str) -> None:
        self.prefixes.setdefault(uri, prefix)


def _items(prop: ET.Element) -> list[str]:
    for kind in ARRAYS:
        array = prop.find(q(RDF, kind))
        if array is not None:
            return [li.text or "" for li in array.findall(q(RDF, "li"))]
    return [prop.text or ""] if len(prop) == 0 else []


def _remove(parent: ET.Element, child: ET.Element) -> None:
    """Remove ``child``; when it was the last, its predecessor inherits its tail (the parent's closing indent)."""
    children = list(parent)
    index = children.index(child)
    if index == len(children) - 1 and index > 0:
        children[index - 1].tail = child.tail
    parent.remove(child)


def _place_last(description: ET.Element, depth: int) -> None:
    """Whitespace around a new last child; every other node's whitespace stays as it was."""
    prop = description[-1]
    if len(description) > 1:
        before = description[-2]
        prop.tail, before.tail = before.tail, "\n" + " " * (depth + 1)
    else:
        description.text, prop.tail = "\n" + " " * (depth + 1), "\n" + " " * depth


def _layout(prop: ET.Element, depth: int) -> None:
    """One item per line inside a new property (whitespace between RDF elements carries no meaning)."""
    pad = " "
    array = prop[0]
    prop.text, array.tail = "\n" + pad * (depth + 2), "\n" + pad * (depth + 1)
    array.text = "\n" + pad * (depth + 3)
    for li in array:
        li.tail = "\n" + pad * (depth + 3)
    if len(array):
        array[-1].tail = "\n" + pad * (depth + 2)


def _qname(name: str, prefixes: dict[str, str]) -> str:
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        return f"{prefixes[uri]}:{local}"
    return name


def _escape(text: str, attribute: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return text


def _write(element: ET.Element, prefixes: dict[str, str], out: list[str], declare: bool = False) -> None:
    if element.tag is ET.Comment:
        out.append(f"<!--{element.text or ''}-->")
    elif element.tag is ET.ProcessingInstruction:
        out.append(f"<?{element.text or ''}?>")
    else:
        name = _qname(element.tag, prefixes)
        attributes = [f'xmlns:{p}="{_escape(uri, True)}"' for uri, p in prefixes.items() if declare and p != "xml"]
        attributes += [f'{_qname(k, prefixes)}="{_escape(v, True)}"' for k, v in element.attrib.items()]
        out.append(f"<{name}{''.join(' ' + a for a in attributes)}")
        if element.text or len(element):
            out.append(">" + _escape(element.text or ""))
            for child in element:
                _write(child, prefixes, out)
            out.append(f"</{name}>")
        else:
            out.append("/>")
    out.append(_escape(element.tail or ""))
