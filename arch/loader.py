"""Read architecture YAML: safe loading, ``extends:`` chains, overrides, and validation against the kinds.

Every problem raises :class:`ArchSpecError` naming the file, the key path inside the document
(``components.dram.channels``) and what was expected. The loader never executes YAML tags (``yaml.SafeLoader``)
and rejects duplicate keys, which plain PyYAML would silently overwrite. Numbers in exponent form without a dot
(``2e3``, ``1e300``; text under YAML 1.1) are numbers, and a number that is not finite (``.inf``, ``.nan``,
``1e400``) is refused, in files and in ``--set`` values alike.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from archsim.arch.registry import get_kind, kind_names
from archsim.arch.spec import ArchSpec, Component
from archsim.base.errors import ArchSpecError

SPEC_DIR = Path(__file__).resolve().parent / "specs"
TOP_KEYS = {"name", "family", "description", "source", "extends", "components", "notes"}
BLOCK_KEYS = {"impl", "source", "description", "components", "notes"}
MAX_EXTENDS_DEPTH = 16


# --- YAML reading --------------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys and reads ``2e3`` as a number (YAML 1.2 style)."""


# YAML 1.1 floats need a dot and a signed exponent; also read 2e3, 2.5e3, -1E5, .5e3, 1e300 as floats. Added after
# the standard resolvers, so integers and the floats YAML 1.1 knows resolve as before.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))

STDIN_NAMES = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


class _NonFinite(float):
    """A YAML float that is not finite (``.inf``, ``.nan``, ``1e400``), kept with its text for the message."""

    text = ""


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> float:
    value = loader.construct_yaml_float(node)
    if math.isfinite(value):
        return value
    out = _NonFinite(value)
    out.text = str(node.value)
    return out


def check_finite(value: Any, file: str | None, key: str) -> None:
    """Refuse infinities and NaNs anywhere in ``value`` (mappings and lists too), naming the key path."""
    if isinstance(value, float) and not math.isfinite(value):
        text = getattr(value, "text", "") or repr(value)
        why = ("infinity and NaN are not numbers a parameter can take" if text.lstrip("+-").startswith(".")
               or text.lstrip("+-").lower() in ("inf", "nan", "infinity") else
               "it overflows a 64-bit float (largest about 1.8e308)")
        raise ArchSpecError(f"expected a finite number, got {text!r}: {why}", file=file, key=key or None)
    if isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, file, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_finite(v, file, f"{key}[{i}]")


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    out: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def parse_yaml(text: str, file: str) -> Any:
    doc = _parse(text, file)
    check_finite(doc, file, "")
    return doc


def _parse(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "?"
        raise ArchSpecError(f"invalid YAML at {where}: {exc.problem or exc.context}", file=file) from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise ArchSpecError(f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                            file=file) from None


# --- finding specs -------------------------------------------------------------------------------------------
def spec_names() -> list[str]:
    """Names of the shipped architecture descriptions (``arch/specs/*.yaml``)."""
    return sorted(p.stem for p in SPEC_DIR.glob("*.yaml"))


def resolve(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A shipped spec name (``pim_gpt``, ``pim-gpt``) or a path to a YAML file."""
    s = str(name_or_path)
    if s.strip() in STDIN_NAMES:
        raise ArchSpecError("reading from standard input is not supported; give a file path", file=s)
    candidates = []
    if relative_to is not None:
        candidates.append(relative_to / s)
    candidates.append(Path(s))
    stem = s.replace("-", "_")
    candidates.append(SPEC_DIR / f"{stem}.yaml")
    for c in candidates:
        if c.is_file():
            return c.resolve()
    for c in candidates[:-1]:  # a path that exists but is no file (the shipped name is always a file)
        if c.is_dir():
            raise ArchSpecError("is a directory; expected a YAML file", file=str(c))
        if c.exists():
            raise ArchSpecError("is not a regular file (a device, pipe or socket); expected a YAML file",
                                file=str(c))
    raise ArchSpecError(f"no architecture file or shipped architecture named {s!r}; "
                        f"shipped: {', '.join(spec_names())}")


# --- merging extends chains ----------------------------------------------------------------------------------
Origins = dict[tuple[str, ...], str]


def _read_doc(path: Path) -> dict:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchSpecError(f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at byte offset {exc.start} "
                            f"cannot be decoded; expected a UTF-8 YAML file", file=str(path)) from None
    except OSError as exc:
        raise ArchSpecError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    doc = parse_yaml(text, str(path))
    if not isinstance(doc, dict):
        raise ArchSpecError("expected a mapping at the top level (name, family, components, ...)",
                            file=str(path))
    return doc


def _merge_components(base: dict, child: dict, origins: Origins, file: str, prefix: tuple[str, ...]) -> None:
    """Merge the child's component mapping into ``base`` in place, recording which file set each key."""
    for name, block in child.items():
        path = prefix + (str(name),)
        if isinstance(block, dict) and isinstance(base.get(name), dict):
            old = base[name]
            if "impl" in block and block["impl"] != old.get("impl"):
                base[name] = copy.deepcopy(block)  # a different kind: the parent's parameters do not apply
                _record(origins, block, file, path)
                continue
            for key, value in block.items():
                if key == "components" and isinstance(value, dict) and isinstance(old.get(key), dict):
                    _merge_components(old[key], value, origins, file, path + ("components",))
                else:
                    old[key] = copy.deepcopy(value)
                    origins[path + (str(key),)] = file
                    if isinstance(value, dict) and key == "components":
                        _record(origins, value, file, path + ("components",), components=True)
        else:
            base[name] = copy.deepcopy(block)
            _record(origins, block, file, path)


def _record(origins: Origins, block: Any, file: str, path: tuple[str, ...], components: bool = False) -> None:
    origins[path] = file
    if isinstance(block, dict):
        for key, value in block.items():
            sub = path + (str(key),)
            origins[sub] = file
            if key == "components" and isinstance(value, dict):
                for cname, cblock in value.items():
                    _record(origins, cblock, file, sub + (str(cname),))
            elif components and isinstance(value, dict):
                _record(origins, value, file, sub)


def _load_chain(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict, Origins, tuple[str, ...]]:
    if path in seen:
        cycle = " -> ".join(p.name for p in seen + (path,))
        raise ArchSpecError(f"cyclic extends: {cycle}", file=str(seen[0]), key="extends")
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ArchSpecError(f"extends chain deeper than {MAX_EXTENDS_DEPTH}", file=str(path), key="extends")
    doc = _read_doc(path)
    file = str(path)
    parent_name = doc.get("extends")
    if parent_name is None:
        origins: Origins = {}
        comps = doc.get("components")
        if isinstance(comps, dict):
            for cname, cblock in comps.items():
                _record(origins, cblock, file, ("components", str(cname)))
        for key in doc:
            origins.setdefault((str(key),), file)
        return copy.deepcopy(doc), origins, (file,)
    if not isinstance(parent_name, str):
        raise ArchSpecError(f"expected the name or path of a file to extend, got {parent_name!r}",
                            file=file, key="extends")
    try:
        parent_path = resolve(parent_name, relative_to=path.parent)
    except ArchSpecError as exc:
        detail = f"{exc.file}: {exc.detail}" if exc.file else exc.detail
        raise ArchSpecError(detail, file=file, key="extends") from None
    merged, origins, chain = _load_chain(parent_path, seen + (path,))
    for key, value in doc.items():
        if key == "extends":
            continue
        if key == "components" and isinstance(value, dict) and isinstance(merged.get("components"), dict):
            _merge_components(merged["components"], value, origins, file, ("components",))
        else:
            merged[key] = copy.deepcopy(value)
            origins[(str(key),)] = file
            if key == "components" and isinstance(value, dict):
                for cname, cblock in value.items():
                    _record(origins, cblock, file, ("components", str(cname)))
    return merged, origins, (file,) + chain


# --- validation ----------------------------------------------------------------------------------------------
def _unwrap(value: Any, where: str, file: str) -> tuple[Any, str | None]:
    """A parameter is a plain value or ``{value: ..., source: "..."}``."""
    if isinstance(value, dict) and "value" in value:
        extra = set(value) - {"value", "source", "note"}
        if extra:
            raise ArchSpecError(f"unknown key {sorted(map(str, extra))[0]!r} in a parameter; "
                                f"expected value, source, note", file=file, key=where)
        src = value.get("source")
        if src is not None and not isinstance(src, str):
            raise ArchSpecError("expected source to be a string", file=file, key=f"{where}.source")
        return value["value"], src
    return value, None


def _validate_component(path: tuple[str, ...], block: Any, origins: Origins, main_file: str) -> Component:
    where = ".".join(path)
    file = origins.get(path, main_file)
    if not isinstance(block, dict):
        raise ArchSpecError(f"expected a component mapping with an impl, got {type(block).__name__}",
                            file=file, key=where)
    impl = block.get("impl")
    if impl is None:
        raise ArchSpecError("missing required key 'impl' (the component kind)", file=file, key=where)
    kind = get_kind(impl) if isinstance(impl, str) else None
    if kind is None:
        raise ArchSpecError(f"unknown impl {impl!r}; registered kinds: {', '.join(kind_names())}",
                            file=origins.get(path + ("impl",), file), key=f"{where}.impl")
    for meta in ("source", "description", "notes"):
        if meta in block and not isinstance(block[meta], str):
            raise ArchSpecError(f"expected {meta} to be a string", file=origins.get(path + (meta,), file),
                                key=f"{where}.{meta}")
    params: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, raw in block.items():
        if key in BLOCK_KEYS:
            continue
        kfile = origins.get(path + (str(key),), file)
        kpath = f"{where}.{key}"
        if not isinstance(key, str) or key not in kind.params:
            known = ", ".join(sorted(kind.params)) or "none"
            raise ArchSpecError(f"unknown key {key!r} for impl {impl}; expected one of: {known}",
                                file=kfile, key=kpath)
        value, src = _unwrap(raw, kpath, kfile)
        try:
            params[key] = kind.params[key].check(value)
        except ValueError as exc:
            raise ArchSpecError(str(exc), file=kfile, key=kpath) from None
        if src:
            sources[key] = src
    for key, p in kind.params.items():
        if key not in params:
            if p.required:
                raise ArchSpecError(f"missing required parameter {key!r} ({p.doc})", file=file,
                                    key=f"{where}.{key}")
            params[key] = p.default
    children: dict[str, Component] = {}
    sub = block.get("components")
    if sub is not None:
        cfile = origins.get(path + ("components",), file)     # a child spec may add the key to a parent's block
        if not kind.children:
            raise ArchSpecError(f"impl {impl} has no sub-components", file=cfile, key=f"{where}.components")
        if not isinstance(sub, dict):
            raise ArchSpecError("expected a mapping of component names", file=cfile, key=f"{where}.components")
        for cname, cblock in sub.items():
            _check_name(cname, f"{where}.components", origins.get(path + ("components", str(cname)), cfile))
            children[cname] = _validate_component(path + ("components", cname), cblock, origins, main_file)
    comp_path = ".".join(path[1::2])  # ("components", "asic", "components", "vec") -> "asic.vec"
    return Component(path=comp_path, impl=impl, params=params, sources=sources, source=block.get("source"),
                     description=block.get("description"), children=children)


def _check_name(name: Any, where: str, file: str) -> None:
    if not isinstance(name, str) or not name.replace("_", "a").isalnum() or not name[:1].isalpha():
        raise ArchSpecError(f"component name {name!r} must be an identifier (letters, digits, _)",
                            file=file, key=where)


def validate(doc: dict, origins: Origins, main_file: str, chain: tuple[str, ...] = ()) -> ArchSpec:
    for key in doc:
        if key not in TOP_KEYS:
            raise ArchSpecError(f"unknown top-level key {key!r}; expected one of: {', '.join(sorted(TOP_KEYS))}",
                                file=origins.get((str(key),), main_file), key=str(key))
    for key in ("name", "family"):
        if key not in doc:
            raise ArchSpecError(f"missing required key {key!r}", file=main_file, key=key)
    for key in ("name", "family", "description", "source", "notes"):
        if key in doc and not isinstance(doc[key], str):
            raise ArchSpecError("expected a string", file=origins.get((key,), main_file), key=key)
    comps = doc.get("components")
    if not isinstance(comps, dict) or not comps:
        raise ArchSpecError("expected a non-empty mapping of components", file=main_file, key="components")
    components = {}
    for cname, block in comps.items():
        _check_name(cname, "components", main_file)
        components[cname] = _validate_component(("components", cname), block, origins, main_file)
    spec = ArchSpec(name=doc["name"], family=doc["family"], file=main_file, components=components,
                    description=doc.get("description"), source=doc.get("source"), chain=chain, raw=doc)
    _check_cross(spec)
    return spec


def _check_cross(spec: ArchSpec) -> None:
    """Constraints between parameters that a kind declares (``arch.kinds.CROSS_CHECKS``)."""
    from archsim.arch.kinds import CROSS_CHECKS

    for comp in spec.walk():
        for check in CROSS_CHECKS.get(comp.impl, ()):
            problem = check(comp.params)
            if problem:
                key, message = problem
                raise ArchSpecError(message, file=spec.file, key=f"{comp.path}.{key}")


# --- public entry points -------------------------------------------------------------------------------------
def load(name_or_path: str | Path, set: dict[str, Any] | None = None) -> ArchSpec:  # noqa: A002
    """Load, merge and validate an architecture; ``set`` overrides parameters by key path."""
    path = resolve(name_or_path)
    if set is not None:
        _check_overrides(set, str(path))
    doc, origins, chain = _load_chain(path)
    spec = validate(doc, origins, str(path), chain)
    if set:
        spec = apply_overrides(spec, set)
    return spec


def load_text(text: str, file: str = "<string>") -> ArchSpec:
    """Validate a document given as text (no ``extends`` to files other than shipped names or absolute paths)."""
    doc = parse_yaml(text, file)
    if not isinstance(doc, dict):
        raise ArchSpecError("expected a mapping at the top level (name, family, components, ...)", file=file)
    if "extends" in doc:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "spec.yaml"
            p.write_text(text, encoding="utf-8")
            try:
                return load(p)
            except ArchSpecError as exc:
                raise ArchSpecError(exc.detail, file=file if exc.file == str(p.resolve()) else exc.file,
                                    key=exc.key) from None
    origins: Origins = {}
    return validate(doc, origins, file)


def parse_override(item: str) -> tuple[str, Any]:
    """``"dram.channels=16"`` -> ``("dram.channels", 16)``; the value is read as YAML (numbers, true, text)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ArchSpecError(f"expected KEY=VALUE (e.g. dram.channels=16), got {item!r}", key="--set")
    try:
        value = yaml.load(raw, Loader=_StrictLoader) if raw.strip() else ""  # noqa: S506 - a SafeLoader
    except yaml.YAMLError:
        value = raw
    check_finite(value, None, f"--set {key.strip()}")
    return key.strip(), value


def _check_overrides(overrides: Any, file: str) -> None:
    if not isinstance(overrides, Mapping):
        raise ArchSpecError(f"expected set= to be a mapping of 'component.parameter' to values, e.g. "
                            f"{{'dram.channels': 16}}; got {type(overrides).__name__}", file=file, key="set")
    for key, value in overrides.items():
        if not isinstance(key, str):
            raise ArchSpecError(f"expected a key path 'component.parameter' as a string, got {key!r}", file=file,
                                key="set")
        check_finite(value, file, f"--set {key}")


def apply_overrides(spec: ArchSpec, overrides: dict[str, Any]) -> ArchSpec:
    _check_overrides(overrides, spec.file)
    doc = copy.deepcopy(spec.raw)
    for key, value in overrides.items():
        comp_path, _, param = key.rpartition(".")
        if not comp_path:
            raise ArchSpecError("expected component.parameter", file=spec.file, key=f"--set {key}")
        comp = spec.component(comp_path) if spec.has(key) or _has_comp(spec, comp_path) else None
        if comp is None:
            raise ArchSpecError(f"no component {comp_path!r}", file=spec.file, key=f"--set {key}")
        kind = get_kind(comp.impl)
        if param not in kind.params:
            raise ArchSpecError(f"unknown parameter {param!r} for impl {comp.impl}; expected one of: "
                                f"{', '.join(sorted(kind.params))}", file=spec.file, key=f"--set {key}")
        block = doc["components"]
        parts = comp_path.split(".")
        for i, part in enumerate(parts):
            node = block[part]
            if i < len(parts) - 1:
                block = node.setdefault("components", {})
        node[param] = {"value": value, "source": "override"}
    try:
        new = validate(doc, {}, spec.file, spec.chain)
    except ArchSpecError as exc:
        raise ArchSpecError(f"{exc.detail} (after --set overrides)", file=spec.file, key=exc.key) from None
    new.overrides = {**spec.overrides, **overrides}
    return new


def _has_comp(spec: ArchSpec, path: str) -> bool:
    try:
        spec.component(path)
        return True
    except ArchSpecError:
        return False
