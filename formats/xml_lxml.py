"""``xml/lxml``: XML with lxml (libxml2), encoded and decoded under the payload's schema.

XML has no typed object model, so building the element tree is part of encoding and turning the
tree back into typed values is part of decoding: both happen inside the timed calls. The native
form is therefore the common model's value itself (``to_native``/``from_native`` are the
identity).

Document shape (the XSD of :mod:`formats.xsd_schema` describes it exactly):

- root element = the root record's name; each field is a child element named after the field,
  in schema order; an optional field that is ``None`` is absent;
- bool ``true``/``false``; ints in decimal; floats as ``repr`` (shortest round-trip text, so
  they come back bit-exact; ``INF``/``-INF``/``NaN`` for non-finite values, as XSD spells them);
  bytes as base64; enum as the symbol; timestamp as int microseconds;
- list -> wrapper element with one ``<item>`` per element (a wrapper, not repeated field elements,
  so that an empty list and an absent optional list stay different);
- map -> wrapper element with one ``<entry key="...">`` per pair;
- nested record -> the field's element holds the record's field elements.

Strings must be XML 1.0 characters: control characters other than tab/newline/CR, NUL and lone
surrogates cannot be written, and encode raises :class:`formats.api.UnsupportedSchema` instead of
changing the value. CR is written as ``&#13;`` by libxml2, so it survives parsing.

encode: closures built once per schema at ``prepare`` append children with
``lxml.etree.SubElement(parent, name).text = text`` and serialise with
``etree.tostring(root, encoding="UTF-8")`` (no XML declaration: UTF-8 is XML's default).

decode: a hardened parser (``resolve_entities=False, no_network=True, load_dtd=False,
huge_tree=False, remove_blank_text=True``), reused across calls, then explicit rejection of any
DOCTYPE (XXE, entity expansion bombs: libxml2 leaves an unresolved entity node instead of raising)
and of every non-element node (comments, processing instructions, entity references), then
schema-guided conversion of the tree into typed values. Errors are :class:`XmlRejected` (unsafe
document) or :class:`XmlDecodeError` (not a document of this schema).

The reader takes every lexical form the generated XSD allows, as other writers (``xml.etree``,
Java, XML-RPC) produce them: whitespace around numbers, booleans and base64 (``xs:int`` etc.
collapse it), ``1``/``0`` booleans, base64 in 76-character lines; float32 text is rounded to
float32 (``4.97`` from Java/Go/.NET is float32(4.97)) and a value beyond float32's range is an
error naming the field. Python-only spellings the XSD refuses (``1_000``, ``inf``, non-ASCII
digits) are refused too. Decode errors name the innermost field (``field Trip.fare: ...``).

Decoding is schema-guided even though the format does not *need* a schema to be parsed: without
one a reader could not know that ``<n>5</n>`` is an int, or that ``<tags/>`` is an empty list.

Reader policies: ``"tolerant"`` (default) ignores unknown elements, finds a field under one of its
``aliases`` (earlier names), fills missing optional fields with their default or ``None``;
``"strict"`` first validates the parsed document against the XSD generated from the reader's
model (``lxml.etree.XMLSchema``), inside the timed decode for that policy.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from formats.api import ALL_TYPE_KINDS, Capabilities, Codec, SchemaText, SimplePrepared, UnsupportedSchema
from formats.native_convert import F32_STRUCT, POLICIES, check_policy, identity
from formats.xsd_schema import ENTRY, ITEM, KEY, check_names, schema_text, xml_schema
from payloads.model import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    EnumType,
    ListType,
    MapType,
    Primitive,
    Record,
    SchemaMismatch,
    Type,
    normalize,
)

# characters outside XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets)
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _bad_xml_text(value: Any, path: str = "") -> str:
    """Where the first string (or map key) XML 1.0 cannot hold is, and which character: for the error."""
    if isinstance(value, str):
        m = _NOT_XML_CHAR.search(value)
        if m:
            ch = m.group()
            return (f"{path or '<root>'}: character U+{ord(ch):04X} at position {m.start()} of {value[:40]!r} is not "
                    "allowed in XML 1.0 (no control characters but tab, LF and CR; no U+FFFE, U+FFFF or surrogates)")
        return ""
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            found = _bad_xml_text(k, f"{path or '<root>'}: the map key") if isinstance(k, str) else ""
            found = found or _bad_xml_text(v, sub)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _bad_xml_text(v, f"{path}[{i}]")
            if found:
                return found
    return ""


class XmlRejected(ValueError):
    """The document uses a construct the reader refuses (DOCTYPE, entities, PIs, comments)."""


class XmlDecodeError(ValueError):
    """The bytes are not an XML document of the reader's schema."""


# ------------------------------------------------------------------------------------------------
# encode: value -> element tree

_b64encode = base64.b64encode


def _text_bool(x: bool) -> str:
    return "true" if x else "false"


def _text_float(x: float) -> str:
    if x - x == 0.0:
        return repr(x)
    return "NaN" if x != x else ("INF" if x > 0 else "-INF")


def _text_bytes(b: bytes) -> str:
    return _b64encode(b).decode("ascii")


def _text_conv(t: Type) -> Callable[[Any], str] | None:
    """For a simple type: the value -> text function (None: the value is its text). Else raises."""
    if isinstance(t, EnumType):
        return None
    assert isinstance(t, Primitive)
    k = t.kind
    if k == "string":
        return None
    if k == "bool":
        return _text_bool
    if k in ("int32", "int64", "timestamp"):
        return int.__repr__
    if k in ("float32", "float64"):
        return _text_float
    if k == "bytes":
        return _text_bytes
    raise UnsupportedSchema(f"xml/lxml: unknown primitive {k!r}")


Filler = Callable[[Any, Any], None]  # (element, value) -> fills the element


def _filler(t: Type, SubElement: Any) -> Filler:
    """A function that fills an element with the XML form of a value of ``t``."""
    if isinstance(t, (Primitive, EnumType)):
        conv = _text_conv(t)
        if conv is None:

            def text(el: Any, x: Any) -> None:
                el.text = x

            return text

        def converted(el: Any, x: Any) -> None:
            el.text = conv(x)

        return converted
    if isinstance(t, ListType):
        items = t.items
        if isinstance(items, (Primitive, EnumType)):
            conv = _text_conv(items)
            if conv is None:

                def lst_text(el: Any, v: list) -> None:
                    for x in v:
                        SubElement(el, ITEM).text = x

                return lst_text

            def lst_conv(el: Any, v: list) -> None:
                for x in v:
                    SubElement(el, ITEM).text = conv(x)

            return lst_conv
        inner = _filler(items, SubElement)

        def lst(el: Any, v: list) -> None:
            for x in v:
                inner(SubElement(el, ITEM), x)

        return lst
    if isinstance(t, MapType):
        inner = _filler(t.values, SubElement)

        def mp(el: Any, v: dict) -> None:
            for k, x in v.items():
                inner(SubElement(el, ENTRY, {KEY: k}), x)

        return mp
    if isinstance(t, Record):
        return _record_filler(t, SubElement)
    raise UnsupportedSchema(f"xml/lxml: unknown schema type {t!r}")


def _record_filler(r: Record, SubElement: Any) -> Filler:
    # kind 0: the value is the element's text; 1: text = fn(value); 2: fn(child element, value)
    specs = []
    for f in r.fields:
        if isinstance(f.type, (Primitive, EnumType)):
            conv = _text_conv(f.type)
            specs.append((f.name, f.optional, 0 if conv is None else 1, conv))
        else:
            specs.append((f.name, f.optional, 2, _filler(f.type, SubElement)))
    specs_t = tuple(specs)
    rname = r.name

    def record(el: Any, v: dict) -> None:
        for name, optional, kind, fn in specs_t:
            x = v.get(name)
            if x is None:
                if optional:
                    continue
                raise SchemaMismatch(f"{rname}.{name}", "required field is missing or null")
            if kind == 0:
                SubElement(el, name).text = x
            elif kind == 1:
                SubElement(el, name).text = fn(x)
            else:
                fn(SubElement(el, name), x)

    return record


# ------------------------------------------------------------------------------------------------
# decode: element tree -> value

_XML_WS = " \t\n\r"  # the whitespace xs:whiteSpace="collapse" removes around a value
_DROP_XML_WS = str.maketrans("", "", _XML_WS)
_XSD_NON_FINITE = frozenset(("INF", "-INF", "NaN"))


def _leaf(t: Type, tolerant: bool = False) -> Callable[[str | None], Any]:
    """text (None for an empty element) -> value, for a simple type. A tolerant reader reads an
    enum symbol it does not know (a newer writer's) as the enum's declared ``default``, if any."""
    if isinstance(t, EnumType):
        symbols = frozenset(t.symbols)
        ename = t.name
        default = t.default if tolerant else None

        def enum(s: str | None) -> str:
            if s in symbols:
                return s  # type: ignore[return-value]
            if default is not None and s:
                return default
            raise XmlDecodeError(f"{s!r:.60} is not a symbol of enum {ename}")

        return enum
    assert isinstance(t, Primitive)
    k = t.kind
    if k == "string":

        def string(s: str | None) -> str:
            return "" if s is None else s

        return string
    if k == "bool":
        table = {"true": True, "false": False, "1": True, "0": False}

        def boolean(s: str | None) -> bool:
            try:
                return table[s]  # type: ignore[index]
            except KeyError:
                pass
            b = table.get(s.strip(_XML_WS)) if type(s) is str else None  # xs:boolean collapses whitespace
            if b is None:
                raise XmlDecodeError(f"expected a boolean (true, false, 1, 0), got {s!r:.60}")
            return b

        return boolean
    if k in ("int32", "int64", "timestamp"):
        lo, hi = (INT32_MIN, INT32_MAX) if k == "int32" else (INT64_MIN, INT64_MAX)
        xs_name = "xs:int" if k == "int32" else "xs:long"

        def integer(s: str | None) -> int:
            try:
                x = int(s)  # type: ignore[arg-type]  # also strips whitespace, as xs:int/xs:long do
            except (TypeError, ValueError):
                raise XmlDecodeError(f"expected {k} ({xs_name}), got {s!r:.60}") from None
            if "_" in s or not s.isascii():  # Python-only forms: 1_000, non-ASCII digits
                raise XmlDecodeError(f"expected {k} ({xs_name}), got {s!r:.60}")
            if lo <= x <= hi:
                return x
            raise XmlDecodeError(f"{x} does not fit in {k}")

        return integer
    if k in ("float32", "float64"):
        xs_name = "xs:float" if k == "float32" else "xs:double"

        def bad_float(s: str | None, x: float = 0.0) -> XmlDecodeError:
            if x - x != 0.0 and x == x and s.isascii() and not any(c in s for c in "nN_"):
                return XmlDecodeError(f"{s.strip(_XML_WS)!r:.40} is out of range for {k}")  # e.g. 1e400
            return XmlDecodeError(f"expected {k} ({xs_name}: digits with an optional exponent, INF, -INF or NaN), "
                                  f"got {s!r:.60}")

        # float() also strips whitespace, as xs:float/xs:double do; it also reads Python-only
        # forms (inf, nan, 1_000, non-ASCII digits) that the XSD refuses: those are refused here
        if k == "float64":

            def floating(s: str | None) -> float:
                try:
                    x = float(s)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise bad_float(s) from None
                if "_" in s or not s.isascii() or (x - x != 0.0 and s.strip(_XML_WS) not in _XSD_NON_FINITE):
                    raise bad_float(s, x)
                return x

            return floating
        pack, unpack = F32_STRUCT.pack, F32_STRUCT.unpack

        def floating32(s: str | None) -> float:
            try:
                x = float(s)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise bad_float(s) from None
            if "_" in s or not s.isascii() or (x - x != 0.0 and s.strip(_XML_WS) not in _XSD_NON_FINITE):
                raise bad_float(s, x)
            try:
                return unpack(pack(x))[0]  # the shortest text of a float32 (Java, Go, .NET) is not a float64
            except OverflowError:
                raise XmlDecodeError(f"{s.strip(_XML_WS)!r:.40} is out of range for float32") from None

        return floating32
    if k == "bytes":
        b64decode = base64.b64decode

        def raw(s: str | None) -> bytes:
            if s is None:
                return b""
            try:
                return b64decode(s, validate=True)
            except (binascii.Error, ValueError):
                pass
            # xs:base64Binary collapses whitespace: base64.encodebytes / XML-RPC write 76-char lines
            try:
                return b64decode(s.translate(_DROP_XML_WS), validate=True)
            except (binascii.Error, ValueError) as e:
                raise XmlDecodeError(f"invalid base64 (xs:base64Binary): {e}") from None

        return raw
    raise UnsupportedSchema(f"xml/lxml: unknown primitive {k!r}")


Reader = Callable[[Any], Any]  # element -> value


def _no_children(el: Any) -> None:
    child = el[0]
    if isinstance(child.tag, str):
        raise XmlDecodeError(f"<{el.tag}> must hold text, not the element <{child.tag}>")
    raise XmlRejected(f"<{el.tag}> holds a {_node_kind(child)}: not allowed")


def _node_kind(node: Any) -> str:
    from lxml import etree

    if isinstance(node, etree._Comment):
        return "comment"
    if isinstance(node, etree._ProcessingInstruction):
        return "processing instruction"
    if isinstance(node, etree._Entity):
        return f"entity reference {node.text}"
    return type(node).__name__


def _not_element(parent: Any, node: Any) -> XmlRejected:
    return XmlRejected(f"<{parent.tag}> holds a {_node_kind(node)}: only elements and text are allowed")


def _reader(t: Type, tolerant: bool) -> Reader:
    if isinstance(t, (Primitive, EnumType)):
        conv = _leaf(t, tolerant)

        def leaf(el: Any) -> Any:
            if len(el):
                _no_children(el)
            return conv(el.text)

        return leaf
    if isinstance(t, ListType):
        inner = _reader(t.items, tolerant)

        def lst(el: Any) -> list:
            if el.text and el.text.strip():  # <note>hello</note> where a list is expected is not []
                raise XmlDecodeError(f"<{el.tag}> (a list) holds the text {el.text.strip()!r:.40}, expected <{ITEM}> elements")
            out = []
            for c in el:
                if c.tag != ITEM:
                    if not isinstance(c.tag, str):
                        raise _not_element(el, c)
                    raise XmlDecodeError(f"<{el.tag}> (a list) holds <{c.tag}>, expected <{ITEM}>")
                out.append(inner(c))
            return out

        return lst
    if isinstance(t, MapType):
        inner = _reader(t.values, tolerant)

        def mp(el: Any) -> dict:
            if el.text and el.text.strip():
                raise XmlDecodeError(f"<{el.tag}> (a map) holds the text {el.text.strip()!r:.40}, expected <{ENTRY}> elements")
            out = {}
            for c in el:
                if c.tag != ENTRY:
                    if not isinstance(c.tag, str):
                        raise _not_element(el, c)
                    raise XmlDecodeError(f"<{el.tag}> (a map) holds <{c.tag}>, expected <{ENTRY}>")
                k = c.get(KEY)
                if k is None:
                    raise XmlDecodeError(f"<{ENTRY}> in <{el.tag}> has no {KEY} attribute")
                out[k] = inner(c)
            return out

        return mp
    if isinstance(t, Record):
        return _record_reader(t, tolerant)
    raise UnsupportedSchema(f"xml/lxml: unknown schema type {t!r}")


def _in_field(e: XmlDecodeError, rname: str, name: str) -> XmlDecodeError:
    """``e`` naming the innermost field it happened in (an outer record leaves it as it is)."""
    if getattr(e, "field", None) is not None:
        return e
    out = XmlDecodeError(f"field {rname}.{name}: {e}")
    out.field = f"{rname}.{name}"  # type: ignore[attr-defined]
    return out


def _record_reader(r: Record, tolerant: bool) -> Reader:
    # field element name -> (field name, is_leaf, reader): a leaf's reader takes the element's
    # text (one call fewer per leaf, the common case), any other reader the element
    table: dict[str, tuple[str, bool, Callable[[Any], Any]]] = {}
    for f in r.fields:
        is_leaf = isinstance(f.type, (Primitive, EnumType))
        rd = _leaf(f.type, tolerant) if is_leaf else _reader(f.type, tolerant)
        table[f.name] = (f.name, is_leaf, rd)
        if tolerant:
            for a in f.aliases:
                table.setdefault(a, (f.name, is_leaf, rd))
    fill = tuple(
        (f.name, f.optional, normalize(f.type, f.default) if (f.optional and f.has_default) else None)
        for f in r.fields
    )
    nfields = len(r.fields)
    rname = r.name
    get = table.get

    def record(el: Any) -> dict:
        if el.text and el.text.strip():
            raise XmlDecodeError(f"<{el.tag}> (a record {rname}) holds the text {el.text.strip()!r:.40}, expected field elements")
        out: dict[str, Any] = {}
        for c in el:
            spec = get(c.tag)
            if spec is None:
                if not isinstance(c.tag, str):
                    raise _not_element(el, c)
                if tolerant:
                    continue  # an unknown element: a newer writer's field
                raise XmlDecodeError(f"<{c.tag}> is not a field of {rname}")
            name, is_leaf, rd = spec
            if name in out:
                raise XmlDecodeError(f"field {rname}.{name} appears twice")
            try:
                if is_leaf:
                    if len(c):
                        _no_children(c)
                    out[name] = rd(c.text)
                else:
                    out[name] = rd(c)
            except XmlDecodeError as e:
                raise _in_field(e, rname, name) from None
        if len(out) != nfields:
            for name, optional, default in fill:
                if name not in out:
                    if not optional:
                        raise XmlDecodeError(f"required field {rname}.{name} is missing")
                    out[name] = default
        return out

    return record


# ------------------------------------------------------------------------------------------------


class LxmlCodec(Codec):
    name = "xml/lxml"
    format = "xml"
    library = "lxml"
    modules = ("lxml",)
    pip_name = "lxml"
    description = "XML with lxml: schema-guided element tree building and a hardened, schema-guided reader"
    capabilities = Capabilities(
        binary=False,
        needs_schema=False,
        types=ALL_TYPE_KINDS,
        evolution_modes=POLICIES,
        deterministic=True,
        notes=(
            "decoding is schema-guided: the reader needs the schema to restore types (ints, floats, "
            "bools, bytes, empty lists), though the document itself is self-describing",
            "building the element tree is part of encode and converting the tree to typed values "
            "is part of decode (the native form is the model value)",
            "strings with characters XML 1.0 cannot hold (NUL, most C0 controls, lone surrogates) "
            "are reported as unsupported",
            "the reader rejects DOCTYPEs, entities, comments and processing instructions",
            "strict reader: decode validates against the generated XSD, inside the timed decode",
        ),
    )

    def backend(self) -> str:
        from lxml import etree

        return "libxml2 " + ".".join(str(p) for p in etree.LIBXML_VERSION)

    def schema_text(self, schema: Record) -> SchemaText:
        return schema_text(schema)

    def prepare(self, schema: Record, reader_schema: Record | None = None, policy: str | None = None) -> SimplePrepared:
        from lxml import etree

        self.check_schema(schema)
        check_names(schema)
        reader = reader_schema or schema
        if reader_schema is not None:
            self.check_schema(reader_schema)
            check_names(reader_schema)
        pol = check_policy(self.name, policy)
        tolerant = pol == "tolerant"

        Element, tostring = etree.Element, etree.tostring
        fill_root = _record_filler(schema, etree.SubElement)
        root_name = schema.name
        cname = self.name

        def encode(value: Any) -> bytes:
            root = Element(root_name)
            try:
                fill_root(root, value)
            except SchemaMismatch:
                raise
            except ValueError as e:  # lxml: "All strings must be XML compatible", surrogates
                raise UnsupportedSchema(f"{cname}: a value cannot be written as XML 1.0 text: "
                                        f"{_bad_xml_text(value) or e}") from None
            return tostring(root, encoding="UTF-8")

        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True
        )
        fromstring = etree.fromstring
        XMLSyntaxError = etree.XMLSyntaxError
        read_root = _record_reader(reader, tolerant)
        root_names = frozenset((reader.name, *reader.aliases)) if tolerant else frozenset((reader.name,))
        validator = None if tolerant else xml_schema(reader)

        def decode(data: bytes) -> Any:
            try:
                root = fromstring(data, parser)
            except XMLSyntaxError as e:
                raise XmlDecodeError(f"not well-formed XML: {e}") from None
            tree = root.getroottree()
            if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
                raise XmlRejected("XML document rejected: DOCTYPE declarations (DTDs, entities) are not allowed")
            if root.getprevious() is not None or root.getnext() is not None:
                raise XmlRejected("XML document rejected: comments or processing instructions outside the root element")
            if root.tag not in root_names:
                raise XmlDecodeError(f"root element is <{root.tag}>, expected <{reader.name}>")
            if validator is not None and not validator.validate(root):
                err = validator.error_log.last_error
                raise XmlDecodeError(f"strict XML reader for {reader.name}: the document is not valid: {err}")
            return read_root(root)

        return SimplePrepared(encode=encode, decode=decode, to_native=identity, from_native=identity)
