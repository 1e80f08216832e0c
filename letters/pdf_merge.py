"""Many letters' PDFs as one print file, built in parts so a batch's workers share the work.

Reading a WeasyPrint PDF with pypdf is the costly step (its objects sit in one compressed
object stream, parsed whole), so it happens once per letter, in the chunk's own worker:
``PdfPart`` copies each letter's pages, the objects they use and the letter's tags into a
*part* file. Joining the parts (``pdf_join``) parses no PDF: it reads each part's bytes,
adds an offset to the object numbers the part recorded, writes stream objects (content,
fonts, images) as they are and packs the plain ones (mostly the tags) into compressed object
streams, then writes the page tree, the structure tree and a cross-reference stream. The last
worker of a batch spends 2 to 4 ms a letter on it instead of 20 ms parsing each letter again.

A part is plain PDF object text whose object numbers are written with ten digits (valid PDF:
leading zeros are allowed), followed by an index (JSON) saying where every object header and
every reference sits, which pages it adds and which tags. Numbers 1 to 4 are the joined
file's catalog, page tree, structure tree root and parent tree; a part's own objects start
at 5 and the join moves them past the parts before it.

The joined file keeps each letter's tags: every letter's top-level structure elements become
children of one structure tree root, in order, each with its letter's language, and the
parent-tree keys are renumbered to stay unique (``key_base``: one range per part). Each
letter is padded with a blank page to an even page count so every letter starts on a fresh
sheet when printed on both sides.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from array import array
from collections.abc import Iterable
from typing import IO, Any

import pypdf
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

CATALOG, PAGES, STRUCT_ROOT, PARENT_TREE = 1, 2, 3, 4
FIRST_OWN = 5  # a part's first object number
DIGITS = 10
KEYS_PER_PART = 100_000  # parent-tree keys a part may use (pages and annotations)
OBJECTS_PER_STREAM = 200  # plain objects packed into one compressed object stream
OBJ_HEADER = DIGITS + len(b" 0 obj\n")  # what PdfPart writes around each object
OBJ_TRAILER = len(b"\nendobj\n")
FOOTER = 20  # the index's offset, in DIGITS digits and padding, at the end of a part
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
STRUCT_PARENT_KEYS = ("/StructParents", "/StructParent")


class _Ref(IndirectObject):
    """A reference written with a fixed-width number whose position is recorded, so the join
    can move it without parsing anything."""

    def __init__(self, number: int, positions: list[int]) -> None:
        super().__init__(number, 0, None)
        self.positions = positions

    def write_to_stream(self, stream: Any, *_args: Any, **_kwargs: Any) -> None:
        self.positions.append(stream.tell())
        stream.write(b"%0*d 0 R" % (DIGITS, self.idnum))


def _nums(tree: PdfObject | None) -> Iterable[tuple[int, PdfObject]]:
    """A number tree's (key, value) pairs, leaves and kids alike."""
    node = tree.get_object() if tree is not None else None
    if not isinstance(node, DictionaryObject):
        return
    nums = node.get("/Nums")
    if nums is not None:
        values = list(nums.get_object())
        for at in range(0, len(values) - 1, 2):
            yield int(values[at]), values[at + 1]
    for kid in node.get("/Kids", ArrayObject()).get_object():
        yield from _nums(kid)


class _Letter:
    """What copying one letter needs: its reader, its object numbers in the part, the objects
    still to write, and its parent-tree keys renumbered into the part's range."""

    def __init__(self, reader: pypdf.PdfReader) -> None:
        self.reader = reader
        self.numbers: dict[int, int] = {}
        self.queue: list[int] = []
        self.keys: dict[int, int] = {}


def _as_list(value: PdfObject | None) -> list[PdfObject]:
    """A structure element's kids as a list, whether written as an array or as one kid."""
    if value is None:
        return []
    resolved = value.get_object()
    if isinstance(resolved, ArrayObject):
        return list(resolved)
    return [value]


class PdfPart:
    """Writes letters into one part (see the module's docstring). ``key_base`` is the first
    parent-tree key this part may use; parts of one print file must not share a range."""

    def __init__(self, out: IO[bytes], *, key_base: int = 0) -> None:
        self.out = out
        self.start = out.tell()
        self.refs: list[int] = []  # positions (in the part) of numbers to move
        self.objects: list[tuple[int, int]] = []  # (number, position of its header)
        self.streams: list[int] = []  # the numbers of stream objects (kept out of ObjStms)
        self.pages: list[int] = []
        self.struct_kids: list[int] = []
        self.parent_tree: list[tuple[int, int]] = []  # (key, number of its value)
        self.language = ""
        self.next_number = FIRST_OWN
        self.next_key = key_base
        self.key_limit = key_base + KEYS_PER_PART

    # -- numbering and writing

    def _number(self) -> int:
        self.next_number += 1
        return self.next_number - 1

    def _ref(self, number: int) -> _Ref:
        return _Ref(number, self.refs)

    def _write(self, number: int, obj: PdfObject) -> None:
        header = self.out.tell()
        self.objects.append((number, header - self.start))
        self.refs.append(header - self.start)
        if isinstance(obj, StreamObject):
            self.streams.append(number)
        self.out.write(b"%0*d 0 obj\n" % (DIGITS, number))
        # Positions recorded while writing are absolute; make them the part's own.
        first = len(self.refs)
        obj.write_to_stream(self.out)
        for at in range(first, len(self.refs)):
            self.refs[at] -= self.start
        self.out.write(b"\nendobj\n")

    # -- copying one letter

    def _copy(self, obj: PdfObject, letter: _Letter) -> PdfObject:
        if isinstance(obj, IndirectObject):
            if obj.idnum not in letter.numbers:
                letter.numbers[obj.idnum] = self._number()
                letter.queue.append(obj.idnum)
            return self._ref(letter.numbers[obj.idnum])
        if isinstance(obj, StreamObject):
            stream = StreamObject()
            stream._data = obj._data  # the encoded bytes, filters kept in the dictionary
            for key, value in obj.items():
                if key != "/Length":  # written from the data
                    stream[NameObject(key)] = self._copy(value, letter)
            return stream
        if isinstance(obj, DictionaryObject):
            copied = DictionaryObject()
            for key, value in obj.items():
                if key == "/Parent":  # never climb back into the letter's page tree
                    continue
                if key in STRUCT_PARENT_KEYS and int(value.get_object()) in letter.keys:
                    copied[NameObject(key)] = NumberObject(letter.keys[int(value.get_object())])
                    continue
                copied[NameObject(key)] = self._copy(value, letter)
            return copied
        if isinstance(obj, ArrayObject):
            return ArrayObject(self._copy(value, letter) for value in obj)
        return obj

    def _drain(self, letter: _Letter) -> None:
        while letter.queue:
            idnum = letter.queue.pop()
            source = letter.reader.get_object(idnum)
            target = NullObject() if source is None else self._copy(source, letter)
            self._write(letter.numbers[idnum], target)

    def add_letter(self, handle: IO[bytes]) -> int:
        """Copy one letter's PDF (an open file) into the part, padded to an even page count.
        Returns the pages added."""
        reader = pypdf.PdfReader(handle)
        catalog = reader.root_object
        letter = _Letter(reader)
        # The letter's own catalog and trees are replaced by the joined file's.
        for name, fixed in (("/Pages", PAGES), ("/StructTreeRoot", STRUCT_ROOT)):
            if isinstance(catalog.raw_get(name) if name in catalog else None, IndirectObject):
                letter.numbers[catalog.raw_get(name).idnum] = fixed
        if catalog.indirect_reference is not None:
            letter.numbers[catalog.indirect_reference.idnum] = CATALOG
        struct_root = catalog.get("/StructTreeRoot")
        struct_root = struct_root.get_object() if struct_root is not None else None
        entries: list[tuple[int, PdfObject]] = []
        if isinstance(struct_root, DictionaryObject):
            entries = list(_nums(struct_root.get("/ParentTree")))
            for key, _value in entries:
                letter.keys[key] = self._key()
        language = str(catalog.get("/Lang", ""))
        self.language = self.language or language

        for page in reader.pages:
            copied = self._copy(page, letter)
            assert isinstance(copied, DictionaryObject)
            copied[NameObject("/Parent")] = self._ref(PAGES)
            assert page.indirect_reference is not None
            idnum = page.indirect_reference.idnum
            number = letter.numbers.setdefault(idnum, self._number())
            self.pages.append(number)
            self._write(number, copied)
            self._drain(letter)
        if len(reader.pages) % 2:
            self._blank_page(reader.pages[-1].mediabox)

        if isinstance(struct_root, DictionaryObject):
            for kid in _as_list(struct_root.raw_get("/K") if "/K" in struct_root else None):
                self._add_struct_kid(kid, language, letter)
            for key, value in entries:
                copied_value = self._copy(value, letter)
                if isinstance(copied_value, _Ref):
                    number = copied_value.idnum
                else:  # a page's array of elements, written where the parent tree can point
                    number = self._number()
                    self._write(number, copied_value)
                self.parent_tree.append((letter.keys[key], number))
            self._drain(letter)
        return len(reader.pages) + len(reader.pages) % 2

    def _add_struct_kid(self, kid: PdfObject, language: str, letter: _Letter) -> None:
        """One of the letter's top-level structure elements, made a child of the joined
        file's root and given the letter's language (the joined file has one /Lang)."""
        if not isinstance(kid, IndirectObject) or kid.idnum in letter.numbers:
            return  # WeasyPrint writes one indirect document element; nothing else is kept
        number = letter.numbers[kid.idnum] = self._number()
        source = kid.get_object()
        if source is None:
            return
        element = self._copy(source, letter)
        if isinstance(element, DictionaryObject) and language and "/Lang" not in element:
            element[NameObject("/Lang")] = TextStringObject(language)
        self._write(number, element)
        self.struct_kids.append(number)

    def _key(self) -> int:
        if self.next_key >= self.key_limit:
            raise ValueError("too many tagged pages for one part of a print file")
        self.next_key += 1
        return self.next_key - 1

    def _blank_page(self, mediabox: ArrayObject) -> None:
        number = self._number()
        self.pages.append(number)
        self._write(
            number,
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Page"),
                    NameObject("/Parent"): self._ref(PAGES),
                    NameObject("/MediaBox"): ArrayObject(mediabox),
                    NameObject("/Resources"): DictionaryObject(),
                }
            ),
        )

    def close(self) -> None:
        """Write the index and the footer; the part is complete."""
        index = json.dumps(
            {
                "last": self.next_number - 1,
                "refs": self.refs,
                "objects": self.objects,
                "streams": self.streams,
                "pages": self.pages,
                "struct_kids": self.struct_kids,
                "parent_tree": self.parent_tree,
                "language": self.language,
            },
            separators=(",", ":"),
        ).encode()
        at = self.out.tell() - self.start
        self.out.write(b"\n%%INDEX ")
        self.out.write(index)
        self.out.write(b"\n%0*d\n" % (FOOTER - 2, at))


def _read_index(part: IO[bytes]) -> tuple[int, dict[str, Any]]:
    """A part's body length and its index (see ``PdfPart.close``)."""
    part.seek(0, 2)
    size = part.tell()
    part.seek(size - FOOTER)
    body = int(part.read(FOOTER).strip())
    part.seek(body)
    marker = b"\n%%INDEX "
    index = json.loads(part.read(size - FOOTER - body)[len(marker) :])
    return body, index


def _global(number: int, shift: int) -> int:
    return number if number < FIRST_OWN else number + shift


class _JoinedFile:
    """The joined PDF as it is written: objects go straight to the file, except plain ones
    (dictionaries, arrays: most of a tagged letter), which are packed into compressed object
    streams; the cross-reference table is a compressed stream too (PDF 1.5). Uncompressed, the
    tags of 1,154 letters made a 117 MB print file."""

    ENTRY = struct.Struct(">BQI")  # cross-reference stream entries: /W [1 8 4]

    def __init__(self, out: IO[bytes], first_free: int) -> None:
        self.out = out
        # Cross-reference entries by object number, in arrays (a dict of tuples cost 60 MB in
        # the last worker for 1,000 letters): the type, then its two fields.
        self.kinds = bytearray(first_free)
        self.fields = array("q", bytes(16 * first_free))
        self._entry(0, 0, 0, 65535)
        self.pending: list[tuple[int, bytes]] = []  # plain objects awaiting an object stream
        self.next_number = first_free
        out.write(HEADER)

    def _number(self) -> int:
        self.next_number += 1
        return self.next_number - 1

    def _entry(self, number: int, kind: int, second: int, third: int) -> None:
        if number >= len(self.kinds):
            grow = number + 1 - len(self.kinds)
            self.kinds.extend(bytes(grow))
            self.fields.frombytes(bytes(16 * grow))
        self.kinds[number] = kind
        self.fields[2 * number] = second
        self.fields[2 * number + 1] = third

    def raw(self, number: int, data: bytes | bytearray | memoryview) -> None:
        """An object written as it is (``data`` from its header to ``endobj``)."""
        self._entry(number, 1, self.out.tell(), 0)
        self.out.write(data)

    def plain(self, number: int, body: bytes) -> None:
        """An object's body (no header), to go into the next object stream."""
        self.pending.append((number, body))
        if len(self.pending) >= OBJECTS_PER_STREAM:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        number = self._number()
        header, bodies, at = [], [], 0
        for index, (member, body) in enumerate(self.pending):
            header.append(b"%d %d" % (member, at))
            bodies.append(body)
            at += len(body) + 1
            self._entry(member, 2, number, index)
        first = b" ".join(header) + b"\n"
        data = zlib.compress(first + b"\n".join(bodies) + b"\n")
        self.raw(
            number,
            b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
            b"stream\n%s\nendstream\nendobj\n"
            % (number, len(self.pending), len(first), len(data), data),
        )
        self.pending = []

    def close(self) -> None:
        """The cross-reference stream and the trailer."""
        self.flush()
        number = self._number()
        size = self.next_number
        at = self.out.tell()
        self._entry(number, 1, at, 0)
        entries = bytearray(self.ENTRY.size * size)
        for n in range(size):  # a number no object took stays a free entry (none should)
            self.ENTRY.pack_into(
                entries,
                n * self.ENTRY.size,
                self.kinds[n],
                self.fields[2 * n],
                self.fields[2 * n + 1],
            )
        table = zlib.compress(entries)
        self.out.write(
            b"%d 0 obj\n<< /Type /XRef /Size %d /W [ 1 8 4 ] /Root %d 0 R /Filter /FlateDecode"
            b" /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n"
            % (number, size, CATALOG, len(table), table, at)
        )


def pdf_join(parts: Iterable[IO[bytes]], out: IO[bytes]) -> int:
    """Join ``parts`` (open files written by ``PdfPart``), in order, into one PDF written to
    ``out``. Reads each part's bytes once and parses none of its PDF. Returns the pages."""
    parts = list(parts)
    # The object streams' numbers follow every part's objects, so count those first (one index
    # at a time: together they hold every reference's position, ~40 MB for 1,000 letters).
    own = sum(_read_index(part)[1]["last"] - FIRST_OWN + 1 for part in parts)
    joined = _JoinedFile(out, first_free=FIRST_OWN + own)
    pages: list[int] = []
    struct_kids: list[int] = []
    parent_tree: list[tuple[int, int]] = []
    language = ""
    shift = 0
    for part in parts:
        body_length, index = _read_index(part)
        part.seek(0)
        body = bytearray(part.read(body_length))
        if shift:
            for at in index["refs"]:
                number = int(body[at : at + DIGITS])
                if number >= FIRST_OWN:
                    body[at : at + DIGITS] = b"%0*d" % (DIGITS, number + shift)
        view = memoryview(body)
        streams = set(index["streams"])
        objects = index["objects"]
        for position, (number, at) in enumerate(objects):
            end = objects[position + 1][1] if position + 1 < len(objects) else body_length
            if number in streams:
                joined.raw(number + shift, view[at:end])
            else:  # without its "NNNNNNNNNN 0 obj\n" and "\nendobj\n"
                joined.plain(number + shift, bytes(view[at + OBJ_HEADER : end - OBJ_TRAILER]))
        view.release()
        pages += [_global(n, shift) for n in index["pages"]]
        struct_kids += [_global(n, shift) for n in index["struct_kids"]]
        parent_tree += [(key, _global(n, shift)) for key, n in index["parent_tree"]]
        language = language or index["language"]
        shift += index["last"] - FIRST_OWN + 1

    def ref(number: int) -> IndirectObject:
        return IndirectObject(number, 0, None)

    def write(number: int, obj: PdfObject) -> None:
        written = io.BytesIO()
        obj.write_to_stream(written)
        joined.plain(number, written.getvalue())

    write(
        PAGES,
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): ArrayObject(ref(n) for n in pages),
                NameObject("/Count"): NumberObject(len(pages)),
            }
        ),
    )
    nums = ArrayObject()
    for key, number in sorted(parent_tree):
        nums += [NumberObject(key), ref(number)]
    write(PARENT_TREE, DictionaryObject({NameObject("/Nums"): nums}))
    write(
        STRUCT_ROOT,
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/StructTreeRoot"),
                NameObject("/K"): ArrayObject(ref(n) for n in struct_kids),
                NameObject("/ParentTree"): ref(PARENT_TREE),
            }
        ),
    )
    catalog = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Catalog"),
            NameObject("/Pages"): ref(PAGES),
        }
    )
    if struct_kids:
        catalog[NameObject("/StructTreeRoot")] = ref(STRUCT_ROOT)
        catalog[NameObject("/MarkInfo")] = DictionaryObject(
            {NameObject("/Marked"): pypdf.generic.BooleanObject(True)}
        )
    if language:
        catalog[NameObject("/Lang")] = TextStringObject(language)
    write(CATALOG, catalog)

    joined.close()
    return len(pages)
