"""Build a snapshot from files: ``kubectl get -o yaml|json`` output, manifests, directories, stdin.

Accepted: one JSON object, several concatenated JSON objects, multi-document YAML, ``kind: List``
(also nested Lists and typed lists such as ``PodList`` whose items carry no kind), directories
(``*.yaml``, ``*.yml``, ``*.json``, recursively) and ``-`` for stdin.

Bad input never raises anything but :class:`LoadError`, whose message is one line naming the file:
binary data, text that is neither JSON nor YAML, YAML that holds no Kubernetes objects, alias and
merge-key bombs, nesting too deep, files above the size limit. Problems inside otherwise good input
(an object without a name, a field of the wrong type, duplicates) become counted warnings.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import sys
from pathlib import Path

import yaml

from .snapshot import BadObject, Snapshot, SnapshotBuilder, list_item_defaults

try:  # libyaml bindings: an order of magnitude faster than the pure-Python parser
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

MAX_INPUT_BYTES = 2 * 1024**3
_MERGE_TAG = "tag:yaml.org,2002:merge"
# A YAML anchor: '&name' after whitespace or a flow indicator (not an '&' inside a URL or a word).
_ANCHOR = re.compile(rb"(?:^|[\s\[{,])&[^\s\[\]{},]")
MAX_MERGED_KEYS = 1_000_000
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


class LoadError(Exception):
    """Input the scanner cannot use; the message is one line for the user."""


class _GuardedLoader(_BaseLoader):
    """Used only when the text defines YAML anchors: bounds what aliases and merge keys can expand to."""

    def __init__(self, stream):
        super().__init__(stream)
        self._merged = 0

    def flatten_mapping(self, node):
        merges = any(key.tag == _MERGE_TAG for key, _ in node.value)
        super().flatten_mapping(node)
        if not merges:
            return
        self._merged += len(node.value)
        if self._merged > MAX_MERGED_KEYS:
            raise yaml.constructor.ConstructorError(
                None, None, f"YAML merge keys expand to more than {MAX_MERGED_KEYS} entries (a merge-key bomb?)",
                node.start_mark)


@contextlib.contextmanager
def paused_gc():
    """Pause the cyclic garbage collector while millions of acyclic containers are built.

    Parsing and slimming create no reference cycles; without the pause, CPython's collections walk
    every object already loaded again and again, and loading time grows faster than the input.
    ``load_paths`` and ``scan`` pause it for their own work; callers that load and scan in one go
    (``manage.py scan``, the cluster scan task) should hold the pause across both, otherwise the first
    collection after loading walks the whole snapshot once more.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_paths(paths, *, stdin=None, builder: SnapshotBuilder | None = None, now=None) -> Snapshot:
    """Load every path (file, directory or ``-``) into one snapshot."""
    paths = list(paths)
    if not paths:
        raise LoadError("no input: give --file PATH (a file, a directory, or - for stdin)")
    if paths.count("-") > 1:
        raise LoadError("stdin (-) can be read only once")
    builder = builder or SnapshotBuilder(", ".join("stdin" if p == "-" else str(p) for p in paths))
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read()
            if isinstance(data, str):
                data = data.encode("utf-8")
            load_bytes(data, "stdin", builder)
            continue
        p = Path(path)
        if p.is_dir():
            _load_dir(p, builder)
        else:
            load_bytes(_read(p), str(path), builder)
    return builder.build(now=now)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise LoadError(f"{path}: {size / 1024**2:.0f} MB is more than the {MAX_INPUT_BYTES // 1024**2} MB limit")
        with path.open("rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise LoadError(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise LoadError(f"{path}: is a directory") from None
    except PermissionError:
        raise LoadError(f"{path}: permission denied") from None
    except OSError as exc:
        raise LoadError(f"{path}: {exc.strerror or exc}") from None


def _load_dir(directory: Path, builder: SnapshotBuilder) -> None:
    files = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / n for n in sorted(names) if n.endswith(MANIFEST_SUFFIXES) and not n.startswith("."))
    if not files:
        raise LoadError(f"{directory}: no .yaml, .yml or .json files in this directory")
    for file in files:
        try:
            load_bytes(_read(file), str(file), builder)
        except LoadError as exc:
            # one bad manifest in a folder of many is reported, not fatal
            builder.warnings.add("skipped unreadable files in directories", str(exc))


def load_bytes(data: bytes, origin: str, builder: SnapshotBuilder) -> int:
    """Parse one input and add its objects to ``builder``; returns the number of objects."""
    if len(data) > MAX_INPUT_BYTES:
        raise LoadError(f"{origin}: more than the {MAX_INPUT_BYTES // 1024**2} MB limit")
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise LoadError(f"{origin}: not valid UTF-16 text") from None
        head = data[:8192]
    elif b"\x00" in head:
        raise LoadError(f"{origin}: binary data, not YAML or JSON")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = data.lstrip()[:1]
    if not first:
        raise LoadError(f"{origin}: empty input")
    before = builder.non_objects
    try:
        with paused_gc():
            if first in (b"{", b"["):
                count = _load_json(data, origin, builder)
            else:
                count = _load_yaml(data, origin, builder)
    except BadObject as exc:
        raise LoadError(f"{origin}: {exc}") from None
    except RecursionError:
        raise LoadError(f"{origin}: nested too deeply to be a Kubernetes object") from None
    except MemoryError:
        raise LoadError(f"{origin}: too large to load into memory") from None
    if count == 0:
        if builder.non_objects > before:
            raise LoadError(f"{origin}: no Kubernetes objects (documents need kind, apiVersion and metadata; "
                            "expected kubectl get -o yaml|json output or manifests)")
        raise LoadError(f"{origin}: no Kubernetes objects in this input")
    return count


def _load_json(data: bytes, origin: str, builder: SnapshotBuilder) -> int:
    try:
        text = data.decode("utf-8")  # once, for every path below
    except UnicodeDecodeError:
        raise LoadError(f"{origin}: not valid UTF-8 text") from None
    count = _load_json_list_items(text, origin, builder)
    if count is not None:
        return count
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return _load_json_stream(text, origin, builder)
        try:  # YAML flow style also starts with { or [
            return _load_yaml(data, origin, builder)
        except LoadError:
            raise LoadError(f"{origin}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    return _add_top(doc, origin, builder)


class _LineCounter:
    """1-based line numbers of increasing offsets into one text, counting each newline once."""

    def __init__(self, text):
        self.text, self.offset, self.line = text, 0, 1
        self.newline = b"\n" if isinstance(text, bytes) else "\n"

    def at(self, offset: int) -> int:
        self.line += self.text.count(self.newline, self.offset, offset)
        self.offset = offset
        return self.line


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_DECODER = json.JSONDecoder()


def _load_json_list_items(text: str, origin: str, builder: SnapshotBuilder) -> int | None:
    """Parse and slim a ``kubectl get -o json`` List item by item; None when the shortcut does not apply.

    Like ``_split_list`` for YAML: ``json.loads`` of the whole file would hold every full object at
    once (gigabytes for 100k objects, and the allocation grows faster than the file). Here each item is
    decoded by the C scanner on its own and slimmed before the next, so memory stays at one item plus
    the slimmed objects. Anything unexpected returns None and the file is parsed whole, which also
    produces the error message for bad input.
    """
    decode, space = _JSON_DECODER.raw_decode, _JSON_SPACE.match
    part = SnapshotBuilder(builder.source)
    header, pending, count, seen_items = {}, [], 0, False
    lines = _LineCounter(text)
    try:
        pos = space(text, 0).end()
        if text[pos:pos + 1] != "{":
            return None
        pos = space(text, pos + 1).end()
        while True:
            key, pos = decode(text, pos)
            pos = space(text, pos).end()
            if type(key) is not str or text[pos:pos + 1] != ":":
                return None
            pos = space(text, pos + 1).end()
            if key == "items" and text[pos:pos + 1] == "[":
                if seen_items:
                    return None  # a repeated key: json.loads keeps the last, so let it decide
                seen_items = True
                pos = space(text, pos + 1).end()
                while text[pos:pos + 1] != "]":
                    line = lines.at(pos)
                    item, pos = decode(text, pos)
                    if type(item) is dict and item.get("kind") and item.get("apiVersion"):
                        count += part.add(item, origin, depth=1, line=line)
                    else:  # needs the List's kind and apiVersion, which kubectl writes after the items
                        pending.append((item, line))
                    pos = space(text, pos).end()
                    if text[pos:pos + 1] == ",":
                        pos = space(text, pos + 1).end()
                    elif text[pos:pos + 1] != "]":
                        return None
                pos += 1
            else:
                header[key], pos = decode(text, pos)
            pos = space(text, pos).end()
            separator = text[pos:pos + 1]
            pos = space(text, pos + 1).end()
            if separator == "}":
                break
            if separator != ",":
                return None
    except json.JSONDecodeError:
        return None
    kind = header.get("kind")
    if pos != len(text) or not seen_items or type(kind) is not str or not kind.endswith("List"):
        return None
    item_kind, item_api = list_item_defaults(kind, header.get("apiVersion"))
    for item, line in pending:
        count += part.add(item, origin, item_kind, item_api, depth=1, line=line)
    builder.absorb(part)
    return count


def _load_json_stream(text: str, origin: str, builder: SnapshotBuilder) -> int:
    """Several JSON documents one after the other (``kubectl get a -o json; kubectl get b -o json``)."""
    decoder = json.JSONDecoder()
    pos, count, end = 0, 0, len(text)
    lines = _LineCounter(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return count
        line = lines.at(pos)
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{origin}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        count += _add_top(doc, origin, builder, line)


def _add_top(doc, origin: str, builder: SnapshotBuilder, line: int = 0) -> int:
    if type(doc) is list:  # a bare array of objects
        count = 0
        for i in range(len(doc)):
            count += builder.add(doc[i], origin, line=line)
            doc[i] = None
        return count
    return builder.add(doc, origin, line=line)


def _load_yaml(data: bytes, origin: str, builder: SnapshotBuilder) -> int:
    guarded = _ANCHOR.search(data) is not None  # aliases and merge keys need an anchor first
    if not guarded:
        split = _split_list(data)
        if split is not None:
            part = SnapshotBuilder(builder.source)
            count = _load_list_items(data, split, origin, part)
            if count is not None:
                builder.absorb(part)
                return count
    loader = (_GuardedLoader if guarded else _BaseLoader)(data)
    count = 0
    try:
        # yaml.load_all, unrolled to learn where each document starts
        while loader.check_node():
            node = loader.get_node()
            doc = loader.construct_document(node)
            if guarded and _repeats_containers(doc):
                raise LoadError(f"{origin}: YAML aliases repeat whole Lists (an alias bomb?); refusing to expand")
            count += _add_top(doc, origin, builder, node.start_mark.line + 1)
    except yaml.YAMLError as exc:
        raise LoadError(f"{origin}: not valid YAML: {_yaml_problem(exc)}") from None
    finally:
        loader.dispose()
    return count


# A line that starts at column 0 with something other than blank space or a comment.
_COLUMN0 = re.compile(rb"^(?:- |-\r?\n|[^\s#])", re.M)


def _split_list(data: bytes):
    """Find the items of a ``kubectl get -o yaml`` List: ``(header text, [(start, end) of each item])``.

    kubectl writes one document whose top-level ``items:`` sequence has its ``- `` entries at column 0
    and everything inside them indented, so item boundaries can be found without parsing. Parsing
    each item on its own never builds the node graph of the whole file: memory stays at one item plus
    the slimmed objects. Anything unusual (several documents, no List, a column-0 line that is neither
    a top-level key nor an item) returns None and the file is parsed whole.
    """
    if data.startswith((b"---", b"%")) or b"\n---" in data or b"\n..." in data:
        return None
    starts = [m.start() for m in _COLUMN0.finditer(data)]
    header, items = [], []
    section = None
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        if data[start:start + 1] == b"-":
            if section != "items":
                return None
            items.append((start, end))
            continue
        newline = data.find(b"\n", start, end)
        line = data[start:newline if newline >= 0 else end].rstrip()
        if line == b"items:":
            section = "items"
        else:
            section = "other"
            header.append(data[start:end])
    if len(items) < 2:
        return None
    return b"".join(header), items


def _load_list_items(data: bytes, split, origin: str, builder: SnapshotBuilder) -> int | None:
    """Parse and slim a kubectl List item by item; None when the shortcut does not apply."""
    header_text, items = split
    try:
        header = yaml.load(header_text, Loader=_BaseLoader) if header_text.strip() else None
    except yaml.YAMLError:
        return None
    if type(header) is not dict or not isinstance(header.get("kind"), str) or not header["kind"].endswith("List"):
        return None
    item_kind, item_api = list_item_defaults(header["kind"], header.get("apiVersion"))
    count = 0
    lines = _LineCounter(data)
    for start, end in items:
        try:
            parsed = yaml.load(data[start:end], Loader=_BaseLoader)
        except yaml.YAMLError:
            return None  # e.g. a quoted scalar continued at column 0: parse the file whole instead
        if type(parsed) is not list or len(parsed) != 1:
            return None
        count += builder.add(parsed[0], origin, item_kind, item_api, depth=1, line=lines.at(start))
    return count


def _repeats_containers(doc) -> bool:
    """True when the same ``items`` list is reached twice (aliases used to multiply a List)."""
    seen = set()
    stack = [doc]
    steps = 0
    while stack:
        node = stack.pop()
        steps += 1
        if steps > 1_000_000:
            return True
        if type(node) is dict:
            items = node.get("items")
            if type(items) is list:
                if id(items) in seen:
                    return True
                seen.add(id(items))
                stack.extend(i for i in items if type(i) is dict and "items" in i)
        elif type(node) is list:
            stack.extend(i for i in node if type(i) is dict and "items" in i)
    return False


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    position = getattr(exc, "position", None)
    if position is not None:
        return f"{problem} (at byte {position})"
    return str(problem)
