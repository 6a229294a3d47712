"""What a loaded module defines, as plain data: the grader's only view of its names.

:func:`describe` runs in the executor right after the module is loaded. The grader
decides everything from this inventory (which API and edition the module follows,
which functions are present, what a missing name is closest to), so it holds facts,
never verdicts; and since it comes from an untrusted process, the grader validates
its form (:func:`checked`) and trusts nothing in it but as a description.

``{"module": name, "file": path, "sources": [module names counted as the user's],
"skipped_imports": [...], "imports": {alias: module name}, "names": {name: entry}}``
where an entry is ``{"kind": "function" | "class" | "module" | "other", "own": bool,
"where": "file:line", "params": [[name, kind, has default], ...] | None,
"bases": [class names], "methods": {name: {"params", "where", "own", "kind"}}}``.
"""
from __future__ import annotations

import inspect
import types

MAX_NAMES = 2000
MAX_METHODS = 300
MAX_TEXT = 300
_PARAM_KINDS = {inspect.Parameter.POSITIONAL_ONLY: "positional",
                inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
                inspect.Parameter.VAR_POSITIONAL: "*",
                inspect.Parameter.KEYWORD_ONLY: "keyword",
                inspect.Parameter.VAR_KEYWORD: "**"}


def _text(value) -> str:
    try:
        return str(value)[:MAX_TEXT]
    except Exception:  # noqa: BLE001 - a hostile __str__
        return "?"


def _where(obj) -> str:
    """``file:line`` of a function's or class's definition, '' when unknown."""
    target = getattr(obj, "__func__", obj)
    code = getattr(target, "__code__", None)
    if isinstance(code, types.CodeType):
        return f"{code.co_filename}:{code.co_firstlineno}"
    if isinstance(obj, type):
        init = vars(obj).get("__init__")
        if isinstance(init, types.FunctionType):
            return _where(init)
        for value in vars(obj).values():
            if isinstance(value, types.FunctionType):
                return _where(value).rsplit(":", 1)[0] + ":0"
    return ""


def _params(obj):
    """``[[name, kind, has default], ...]`` of a callable's signature (a class: its
    constructor's, without ``self``), None when it has none."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [[_text(p.name), _PARAM_KINDS.get(p.kind, "positional"),
             p.default is not inspect.Parameter.empty]
            for p in list(signature.parameters.values())[:64]]


def _methods(cls, sources) -> dict:
    """The methods of ``cls`` and its bases (``object`` aside), the nearest first."""
    found = {}
    for klass in type.__getattribute__(cls, "__mro__")[:-1]:
        own = _module_of(klass) in sources
        for name, value in list(vars(klass).items())[:MAX_METHODS]:
            if name in found or len(found) >= MAX_METHODS:
                continue
            kind = ("static" if isinstance(value, staticmethod) else
                    "class" if isinstance(value, classmethod) else
                    "property" if isinstance(value, property) else
                    "function" if isinstance(value, types.FunctionType) else "")
            if not kind:
                continue
            function = getattr(value, "__func__", value)
            if kind == "property":
                function = value.fget
            params = _params(function) if function is not None else None
            if params and kind == "function":
                params = params[1:]  # self
            found[_text(name)] = {"kind": kind, "own": own, "where": _where(function),
                                  "params": params}
    return found


def _module_of(obj) -> str:
    try:
        module = type.__getattribute__(obj, "__module__") if isinstance(obj, type) \
            else getattr(obj, "__module__", "")
    except Exception:  # noqa: BLE001
        return ""
    return module if isinstance(module, str) else ""


def _entry(obj, sources) -> dict:
    if isinstance(obj, types.ModuleType):
        return {"kind": "module", "own": False, "module": _text(obj.__name__)}
    own = _module_of(obj) in sources
    if isinstance(obj, type):
        bases = [_text(getattr(b, "__qualname__", "?")) for b in obj.__bases__][:16]
        return {"kind": "class", "own": own, "where": _where(obj), "params": _params(obj),
                "bases": bases, "module": _text(_module_of(obj)),
                "methods": _methods(obj, sources)}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) \
            or callable(obj):
        return {"kind": "function", "own": own, "where": _where(obj), "params": _params(obj),
                "module": _text(_module_of(obj))}
    return {"kind": "other", "own": False, "type": _text(type(obj).__name__)}


def describe(loaded) -> dict:
    """The inventory of a :class:`~torch_ref.verify.load.loader.LoadedModule`."""
    module = loaded.module
    sources = {module.__name__, *getattr(module, "__verify_sources__", ())}
    names, imports = {}, {}
    for name, obj in list(vars(module).items()):
        if len(names) >= MAX_NAMES:
            break
        if not isinstance(name, str) or name.startswith("__"):
            continue
        try:
            entry = _entry(obj, sources)
        except Exception:  # noqa: BLE001 - a hostile object: described as what it is
            entry = {"kind": "other", "own": False, "type": "?"}
        names[_text(name)] = entry
        if entry["kind"] == "module":
            imports[_text(name)] = entry["module"]
    return {"module": _text(module.__name__), "file": _text(loaded.file or ""),
            "sources": sorted(_text(s) for s in sources)[:64],
            "skipped_imports": [_text(s) for s in
                                getattr(module, "__verify_skipped_imports__", ())][:64],
            "imports": imports, "names": names}


# ---- the grader's side -------------------------------------------------------------------

class InventoryError(ValueError):
    """An inventory that does not have the form :func:`describe` gives."""


def _check_params(value, where):
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 64 or not all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], str)
            and p[1] in ("positional", "*", "keyword", "**") and isinstance(p[2], bool)
            for p in value):
        raise InventoryError(f"{where}: parameters of the wrong form")
    return [tuple(p) for p in value]


def _check_entry(name, entry) -> dict:
    if not isinstance(entry, dict) or entry.get("kind") not in (
            "function", "class", "module", "other"):
        raise InventoryError(f"{name}: an entry of the wrong form")
    out = {"kind": entry["kind"], "own": entry.get("own") is True,
           "where": str(entry.get("where", ""))[:MAX_TEXT],
           "module": str(entry.get("module", ""))[:MAX_TEXT],
           "params": _check_params(entry.get("params"), name)}
    if entry["kind"] == "class":
        bases = entry.get("bases", [])
        methods = entry.get("methods", {})
        if not isinstance(bases, list) or not isinstance(methods, dict) \
                or len(methods) > MAX_METHODS:
            raise InventoryError(f"{name}: a class of the wrong form")
        out["bases"] = [str(b)[:MAX_TEXT] for b in bases[:16]]
        out["methods"] = {}
        for method, info in methods.items():
            if not isinstance(method, str) or not isinstance(info, dict):
                raise InventoryError(f"{name}: a method of the wrong form")
            out["methods"][method[:MAX_TEXT]] = {
                "kind": str(info.get("kind", ""))[:20], "own": info.get("own") is True,
                "where": str(info.get("where", ""))[:MAX_TEXT],
                "params": _check_params(info.get("params"), f"{name}.{method}")}
    return out


def checked(inventory) -> dict:
    """The inventory with every field of the expected type (nothing else kept);
    raises :class:`InventoryError`."""
    if not isinstance(inventory, dict) or not isinstance(inventory.get("names"), dict) \
            or len(inventory["names"]) > MAX_NAMES:
        raise InventoryError("an inventory of the wrong form")
    names = {str(k)[:MAX_TEXT]: _check_entry(k, v) for k, v in inventory["names"].items()}
    lists = {}
    for key in ("sources", "skipped_imports"):
        value = inventory.get(key, [])
        if not isinstance(value, list) or len(value) > 64:
            raise InventoryError(f"{key} of the wrong form")
        lists[key] = [str(v)[:MAX_TEXT] for v in value]
    imports = inventory.get("imports", {})
    if not isinstance(imports, dict):
        raise InventoryError("imports of the wrong form")
    return {"module": str(inventory.get("module", ""))[:MAX_TEXT],
            "file": str(inventory.get("file", ""))[:MAX_TEXT], "names": names,
            "imports": {str(k)[:MAX_TEXT]: str(v)[:MAX_TEXT]
                        for k, v in list(imports.items())[:MAX_NAMES]}, **lists}
