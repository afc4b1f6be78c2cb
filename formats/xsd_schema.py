"""Generate an XML Schema (XSD 1.0) from the common model, describing what ``xml/lxml`` writes.

Document shape (see :mod:`formats.xml_lxml`):

- the root element is named after the root record; every field is a child element named after
  the field, in schema order (``xs:sequence``); an optional field has ``minOccurs="0"`` and is
  absent when ``None``;
- record -> a named ``xs:complexType`` (one per record, reused); enum -> a named ``xs:simpleType``
  restricting ``xs:string`` with one ``xs:enumeration`` per symbol;
- bool -> xs:boolean, int32 -> xs:int, int64 -> xs:long, timestamp -> xs:long (microseconds since
  the Unix epoch, UTC), float32 -> xs:float, float64 -> xs:double, string -> xs:string,
  bytes -> xs:base64Binary;
- list -> a wrapper element holding zero or more ``<item>`` elements (so an empty list, a
  wrapper with no items, differs from an absent optional list);
- map -> a wrapper element holding zero or more ``<entry key="...">`` elements whose content is
  the value.

The reader (:mod:`formats.xml_lxml`) accepts every lexical form these types allow: whitespace
around numbers, booleans and base64 (``collapse``), ``1``/``0`` booleans, ``+5``/``007`` ints,
``1.``/``.5``/``1E5``/``INF``/``-INF``/``NaN`` floats, base64 in lines (``base64.encodebytes``);
enum values are ``xs:string`` restrictions, so their whitespace is kept (and `` RED `` is not a
symbol). One deliberate difference: libxml2 accepts an ``xs:float`` beyond float32's range
(``1e300``; XSD 1.1 would map it to INF), the reader refuses it naming the field.

No target namespace (the codec writes unqualified names). Record, enum and field names must be
valid XML names without a colon; anything else raises :class:`formats.api.UnsupportedSchema`.
"""

from __future__ import annotations

from typing import Any

from formats.api import SchemaText, UnsupportedSchema
from payloads.model import EnumType, ListType, MapType, Primitive, Record, Type, named_types

XS = "http://www.w3.org/2001/XMLSchema"
_X = "{" + XS + "}"

PRIMITIVES = {
    "bool": "xs:boolean",
    "int32": "xs:int",
    "int64": "xs:long",
    "timestamp": "xs:long",
    "float32": "xs:float",
    "float64": "xs:double",
    "string": "xs:string",
    "bytes": "xs:base64Binary",
}

ITEM = "item"  # list item element
ENTRY = "entry"  # map entry element
KEY = "key"  # map entry key attribute


def check_xml_name(kind: str, name: str) -> str:
    """``name`` if it is a valid XML element name without a colon, else UnsupportedSchema."""
    from lxml import etree

    ok = isinstance(name, str) and ":" not in name and bool(name)
    if ok:
        try:
            etree.Element(name)
        except ValueError:
            ok = False
    if not ok:
        raise UnsupportedSchema(f"xml: {kind} name {name!r} is not a valid XML element name; rename it")
    return name


def check_names(schema: Record) -> None:
    for nt in named_types(schema):
        check_xml_name("record" if isinstance(nt, Record) else "enum", nt.name)
        if isinstance(nt, Record):
            for f in nt.fields:
                check_xml_name(f"field {nt.name}.{f.name}", f.name)
                for a in f.aliases:
                    check_xml_name(f"field {nt.name}.{f.name} alias", a)


def _doc(parent: Any, text: str) -> None:
    from lxml import etree

    if text:
        ann = etree.SubElement(parent, _X + "annotation")
        etree.SubElement(ann, _X + "documentation").text = text


def _is_simple(t: Type) -> bool:
    return isinstance(t, (Primitive, EnumType))


def _type_name(t: Type) -> str | None:
    """The named XSD type of ``t``, or None for lists and maps (anonymous complex types)."""
    if isinstance(t, Primitive):
        return PRIMITIVES[t.kind]
    if isinstance(t, (EnumType, Record)):
        return t.name
    return None


def _element(parent: Any, name: str, t: Type, min_occurs: str | None = None, max_occurs: str | None = None,
             doc: str = "") -> Any:
    from lxml import etree

    el = etree.SubElement(parent, _X + "element", name=name)
    tn = _type_name(t)
    if tn is not None:
        el.set("type", tn)
    if min_occurs is not None:
        el.set("minOccurs", min_occurs)
    if max_occurs is not None:
        el.set("maxOccurs", max_occurs)
    _doc(el, doc)
    if tn is None:
        _anonymous(etree.SubElement(el, _X + "complexType"), t)
    return el


def _anonymous(ct: Any, t: Type) -> None:
    """Fill ``ct`` (an xs:complexType) with the content model of a list or map."""
    from lxml import etree

    seq = etree.SubElement(ct, _X + "sequence")
    if isinstance(t, ListType):
        _element(seq, ITEM, t.items, "0", "unbounded")
        return
    if not isinstance(t, MapType):
        raise UnsupportedSchema(f"xsd: unexpected type {t!r}")
    entry = etree.SubElement(seq, _X + "element", name=ENTRY, minOccurs="0", maxOccurs="unbounded")
    ect = etree.SubElement(entry, _X + "complexType")
    v = t.values
    if _is_simple(v):
        ext = etree.SubElement(etree.SubElement(ect, _X + "simpleContent"), _X + "extension", base=_type_name(v))
    elif isinstance(v, Record):
        ext = etree.SubElement(etree.SubElement(ect, _X + "complexContent"), _X + "extension", base=v.name)
    else:
        _anonymous(ect, v)
        ext = ect
    etree.SubElement(ext, _X + "attribute", name=KEY, type="xs:string", use="required")


def xsd_tree(schema: Record) -> Any:
    """The XSD of ``schema`` as an lxml element tree root."""
    if not isinstance(schema, Record):
        raise UnsupportedSchema(f"xsd: the top-level schema must be a record, got {schema!r:.80}")
    check_names(schema)
    try:
        return _xsd_tree(schema)
    except ValueError as e:  # a doc string or enum symbol XML 1.0 cannot hold
        raise UnsupportedSchema(f"xsd: {schema.name}: {e}") from None


def _xsd_tree(schema: Record) -> Any:
    from lxml import etree

    root = etree.Element(_X + "schema", nsmap={"xs": XS})
    root.set("elementFormDefault", "unqualified")
    _doc(root, f"msgbench XML documents of record {schema.name} (generated from the payload model)")
    etree.SubElement(root, _X + "element", name=schema.name, type=schema.name)
    for nt in named_types(schema):
        if isinstance(nt, EnumType):
            st = etree.SubElement(root, _X + "simpleType", name=nt.name)
            _doc(st, nt.doc)
            r = etree.SubElement(st, _X + "restriction", base="xs:string")
            for s in nt.symbols:
                etree.SubElement(r, _X + "enumeration", value=s)
        else:
            ct = etree.SubElement(root, _X + "complexType", name=nt.name)
            _doc(ct, nt.doc)
            seq = etree.SubElement(ct, _X + "sequence")
            for f in nt.fields:
                doc = f.doc
                if isinstance(f.type, Primitive) and f.type.kind == "timestamp":
                    doc = (doc + " " if doc else "") + "(timestamp: microseconds since the Unix epoch, UTC)"
                _element(seq, f.name, f.type, "0" if f.optional else None, None, doc)
    return root


def xsd_text(schema: Record) -> str:
    from lxml import etree

    return etree.tostring(xsd_tree(schema), encoding="unicode", pretty_print=True)


def xml_schema(schema: Record) -> Any:
    """A compiled ``lxml.etree.XMLSchema`` validator for ``schema``."""
    from lxml import etree

    return etree.XMLSchema(xsd_tree(schema))


def schema_text(schema: Record) -> SchemaText:
    return SchemaText("xsd", ".xsd", xsd_text(schema))
