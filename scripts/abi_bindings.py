"""How each binding declares the C ABI, read from its source (never run:
native.py and index.js load the library on import, which needs a build).
Each reader hands what it finds to a Check (scripts/abi_check.py), which
compares it with the header. Run scripts/abi_check.py, not this.
"""

import ast
import collections
import ctypes
import glob
import os
import re
import struct

from abi_dump import parse_prototype, split_decl, split_top, strip_comments

# A binding's type for one value: its size, the header struct it points to
# (when it points to a struct the binding lays out), and for a function
# pointer, its Sig. A Sig's ret is VOID for void.
T = collections.namedtuple("T", "size pointee sig", defaults=(None, None))
Sig = collections.namedtuple("Sig", "label ret params")
VOID = None
# What only the compiler can measure (scripts/abi_check.py's check_mirrors):
# a C struct that mirrors header struct `header`, and a C function `fn`
# cast to header callback type `callback`.
CMirror = collections.namedtuple("CMirror", "binding label header typedef cname fields")
CCast = collections.namedtuple("CCast", "binding fn callback ret params file")

# struct.Struct formats in native layout, and C structs, that mirror a
# header struct. A new native format fails the check until it is named here.
STRUCT_FORMATS = {"_VIEW": "KafkaMessageView", "_REPORT": "KafkaTrackedReport"}
C_MIRRORS = [("_speedups.c", "Report", "KafkaTrackedReport")]
# Python dicts whose keys are an enum's values.
VALUE_SETS = {"_LEVELS": "KafkaLogLevel"}
# koffi's type names; koffi follows the C ABI, as ctypes does.
KOFFI = {"void": None, "bool": ctypes.c_bool, "char": ctypes.c_char, "uchar": ctypes.c_ubyte,
         "short": ctypes.c_short, "ushort": ctypes.c_ushort, "int": ctypes.c_int, "uint": ctypes.c_uint,
         "long": ctypes.c_long, "ulong": ctypes.c_ulong, "longlong": ctypes.c_longlong,
         "ulonglong": ctypes.c_ulonglong, "float": ctypes.c_float, "double": ctypes.c_double,
         "float32": ctypes.c_float, "float64": ctypes.c_double, "size_t": ctypes.c_size_t,
         "ssize_t": ctypes.c_ssize_t, "intptr_t": ctypes.c_ssize_t, "uintptr_t": ctypes.c_size_t,
         "intptr": ctypes.c_ssize_t, "uintptr": ctypes.c_size_t}
KOFFI.update({"%sint%d%s" % (u, n, t): getattr(ctypes, "c_%sint%d" % (u, n))
              for u in ("", "u") for n in (8, 16, 32, 64) for t in ("", "_t")})
STRINGS = ("str", "string", "str16", "string16")  # koffi's char pointers
# Go's fixed-size types (amd64/arm64 sizes).
GO = {"bool": ctypes.c_bool, "byte": ctypes.c_uint8, "rune": ctypes.c_int32, "int": ctypes.c_int64,
      "uint": ctypes.c_uint64, "uintptr": ctypes.c_size_t, "float32": ctypes.c_float,
      "float64": ctypes.c_double, "unsafe.Pointer": ctypes.c_void_p}
GO.update({"%sint%d" % (u, n): getattr(ctypes, "c_%sint%d" % (u, n)) for u in ("", "u") for n in (8, 16, 32, 64)})


class Unknown(Exception):
    """Something the check cannot read (or, in py_eval, not a declaration)."""


def norm(name):
    """ErrTimeout, KAFKA_ERR_TIMEOUT -> errtimeout: names compared across languages."""
    n = re.sub(r"[^a-z0-9]", "", name.lower())
    return n[5:] if n.startswith("kafka") else n


def c_prototype(text, where):
    proto = parse_prototype(text.strip())
    if proto is None:
        raise Unknown("a prototype in %s: %r" % (where, text))
    return proto


def fields_of(cls):
    return [(n, getattr(cls, n).offset, getattr(cls, n).size) for n, *_ in cls._fields_]


# --- Python ---------------------------------------------------------------

def py_eval(node, env):
    """A module-level expression made of ctypes types, numbers, tuples,
    lists, dicts, POINTER(), CFUNCTYPE(), T * n and struct.Struct(fmt);
    anything else raises Unknown (not a declaration: skipped)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "ctypes":
        return getattr(ctypes, node.attr)
    if isinstance(node, (ast.Tuple, ast.List)):
        return [py_eval(e, env) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {py_eval(k, env): None for k in node.keys}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -py_eval(node.operand, env)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return py_eval(node.left, env) * py_eval(node.right, env)
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "struct.Struct":
        return struct.Struct(py_eval(node.args[0], env))
    if isinstance(node, ast.Call) and ast.unparse(node.func) in ("POINTER", "CFUNCTYPE", "ctypes.POINTER",
                                                                 "ctypes.CFUNCTYPE"):
        return py_eval(node.func, env)(*[py_eval(a, env) for a in node.args])
    raise Unknown(ast.unparse(node))


def py_type(ct, names):
    """A ctypes type (None: void) as a T; `names` gives CFUNCTYPEs their names."""
    if ct is None:
        return VOID
    sig = None
    if isinstance(ct, type) and issubclass(ct, ctypes._CFuncPtr):
        sig = Sig(names.get(ct, ct.__name__), py_type(ct._restype_, names), [py_type(a, names) for a in ct._argtypes_])
    return T(ctypes.sizeof(ct), getattr(getattr(ct, "_type_", None), "_abi_header_", None), sig)


def check_format(check, fname, name, fmt):
    """A native struct.Struct mirrors a header struct: item i is field i."""
    if name not in STRUCT_FORMATS:
        check.fail("python", "%s: struct.Struct %s (%r) has a native layout but mirrors no struct "
                   "abi_check.py knows: add it to STRUCT_FORMATS" % (fname, name, fmt.format))
        return
    header, items, prefix = STRUCT_FORMATS[name], [], "@"
    for count, code in re.findall(r"(\d*)([a-zA-Z?])", fmt.format.lstrip("@")):
        for item in [count + code] if code in "sp" else [code] * int(count or 1):
            prefix += item  # the item's offset: the prefix's size less its own
            items.append((struct.calcsize(prefix) - struct.calcsize("@" + item), struct.calcsize("@" + item)))
    fields = check.structs.get(header, {"fields": []})["fields"]
    label = "struct.Struct %s in %s" % (name, fname)
    if len(items) != len(fields):
        check.fail("python", "%s has %d items, header's %s has %d fields" % (label, len(items), header, len(fields)))
    else:  # its size, unpadded, is iter_unpack's stride: it must be sizeof
        check.layout("python", label, header, [(f["name"],) + i for f, i in zip(fields, items)], fmt.size)


def python_structure(check, node, env, fname):
    """A `class X(Structure)`, built with ctypes and compared."""
    ns = {}
    for s in node.body:
        if isinstance(s, ast.Assign) and ast.unparse(s.targets[0]) in ("_fields_", "_pack_"):
            ns[ast.unparse(s.targets[0])] = py_eval(s.value, env)
    ns["_fields_"] = [tuple(f) for f in ns.get("_fields_", [])]
    short = node.name.lstrip("_")  # _Record: KafkaRecord
    ns["_abi_header_"] = short if short in check.structs else "Kafka" + short
    cls = env[node.name] = type(node.name, (ctypes.Structure,), ns)
    check.layout("python", "%s in %s" % (node.name, fname), ns["_abi_header_"], fields_of(cls), ctypes.sizeof(cls))


def python_assignment(check, node, env, names, fname):
    try:
        value = py_eval(node.value, env)
    except Unknown:
        return
    target = node.targets[0]
    pairs = ([(ast.unparse(t), v) for t, v in zip(target.elts, value)] if isinstance(target, ast.Tuple)
             else [(ast.unparse(target), value)])
    for name, v in pairs:
        env[name] = v
        if isinstance(v, type):
            names.setdefault(v, name)
        elif isinstance(v, int) and not isinstance(v, bool):
            check.constant("python", fname, name, v)
        elif isinstance(v, dict) and name in VALUE_SETS:
            check.counts["python"]["constants"] += 1
            values = sorted(check.enums[VALUE_SETS[name]]["constants"].values())
            if sorted(v) != values:
                check.fail("python", "%s: %s's keys are %s, header's %s values are %s"
                           % (fname, name, sorted(v), VALUE_SETS[name], values))
        elif isinstance(v, struct.Struct) and v.format[:1] not in "<>!=":  # not a wire format
            check_format(check, fname, name, v)


def check_python(check, pydir, mirrors):
    sigs, used = set(), set()
    for path in sorted(glob.glob(os.path.join(pydir, "*.py"))):
        fname, names = os.path.basename(path), {}
        env = {n: getattr(ctypes, n) for n in dir(ctypes) if not n.startswith("__")}  # this module's names
        tree = ast.parse(open(path).read(), path)
        for node in tree.body:  # in order: a declaration uses those above it
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Structure") for b in node.bases):
                python_structure(check, node, env, fname)
            elif isinstance(node, ast.Assign):
                python_assignment(check, node, env, names, fname)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "_sig":  # _sig(name, restype, *argtypes)
                name, ret, args = node.args[0].value, node.args[1], node.args[2:]
                sigs.add(name)
                try:
                    check.function("python", name, py_type(py_eval(ret, env), names),
                                   [py_type(py_eval(a, env), names) for a in args])
                except Unknown as e:
                    check.fail("python", "%s: _sig(%r, ...): cannot read %s" % (fname, name, e))
            elif isinstance(node, ast.Attribute) and node.attr.startswith("kafka_") \
                    and ast.unparse(node.value).endswith("lib"):
                used.add(node.attr)
    for name in sorted(used - sigs):
        check.fail("python", "lib.%s is called without a _sig prototype (ctypes would pass ints "
                   "and return an int)" % name)
    for cfile, cname, header in C_MIRRORS:  # laid out by the compiler, in check_mirrors
        text = strip_comments(open(os.path.join(pydir, cfile)).read())
        m = re.search(r"typedef struct\s*\w*\s*\{([^}]*)\}\s*%s\s*;" % cname, text)
        if not m:
            check.fail("python", "%s: no `typedef struct {...} %s;` (named in C_MIRRORS)" % (cfile, cname))
            continue
        fields = []
        for decl in split_top(m.group(1), ";"):  # `int32_t code, rdkafka_code;`
            first, *more = split_top(decl, ",")
            fields += [split_decl(first)[1]] + [re.sub(r"\W", "", n) for n in more]
        mirrors.append(CMirror("python", "%s in %s" % (cname, cfile), header, m.group(0), cname, fields))


# --- Node -----------------------------------------------------------------

def js_string(arg):
    m = re.match(r"^(['\"`])(.*)\1$", arg.strip(), re.S)
    return m.group(2) if m else None


def koffi_type(text, structs, protos):
    """A koffi type ('const char *', 'int32_t', 'KafkaRecord') as (ctypes
    type, T); a pointer to a struct or a proto keeps its name."""
    text = re.sub(r"\b(_Out_|_In_|_Inout_|const|volatile|struct)\b", " ", text)
    base, stars = re.sub(r"[\s*]", "", text), text.count("*")
    base = re.sub(r"^unsigned(\w+)$", r"u\1", base)
    if stars or base in STRINGS:
        pointee = structs[base]._abi_header_ if stars == 1 and base in structs else None
        return ctypes.c_void_p, T(ctypes.sizeof(ctypes.c_void_p), pointee, protos.get(base) if stars == 1 else None)
    ct = structs[base] if base in structs else KOFFI.get(base, Unknown)
    if ct is Unknown:
        raise Unknown("koffi type %r" % text.strip())
    return ct, VOID if ct is None else T(ctypes.sizeof(ct))


def koffi_struct(check, name, body, structs, protos, packed):
    fields = []
    for entry in split_top(body.strip()[1:-1], ","):
        key, value = [p.strip() for p in entry.split(":", 1)]
        arr = re.match(r"^koffi\.array\(\s*(.+?)\s*,\s*(\d+)", value)
        if arr:
            ct = koffi_type(js_string(arr.group(1)) or arr.group(1), structs, protos)[0] * int(arr.group(2))
        elif value.startswith("koffi.pointer("):
            ct = ctypes.c_void_p
        else:
            ct = koffi_type(js_string(value) or value, structs, protos)[0]
        fields.append((js_string(key) or key, ct))
    ns = {"_fields_": fields, "_abi_header_": name}
    if packed:  # koffi.pack: no padding
        ns["_pack_"] = 1
    cls = type(name, (ctypes.Structure,), ns)
    check.layout("node", name, name, fields_of(cls), ctypes.sizeof(cls))
    return cls


def check_node(check, path):
    # Comments out, strings kept (a '//' may be in one).
    text = re.sub(r"('(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`(?:\\.|[^`\\])*`)|//[^\n]*|/\*.*?\*/",
                  lambda m: m.group(1) or " ", open(path).read(), flags=re.S)
    structs, protos = {}, {}
    for m in re.finditer(r"(?:\b(?:const|let|var)\s+(\w+)\s*=\s*)?(koffi\.(struct|pack|union|proto|callback)"
                         r"|\w+\.func)\s*\(", text):
        var, kind, depth = m.group(1), m.group(3) or "func", 0
        for end in range(m.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        args = split_top(text[m.end():end], ",")
        if kind == "union":
            raise Unknown("koffi.union in %s (not supported by abi_check.py)" % path)
        if kind in ("struct", "pack"):
            name = js_string(args[0]) if len(args) > 1 else var
            structs[name] = koffi_struct(check, name, args[-1], structs, protos, kind == "pack")
            if var:
                structs[var] = structs[name]
            continue
        if len(args) == 3:  # lib.func(name, ret, [params])
            proto = "%s %s(%s)" % (js_string(args[1]), js_string(args[0]),
                                   ", ".join(js_string(a) for a in split_top(args[2].strip()[1:-1], ",")))
        else:
            proto = js_string(args[-1])
        ret, name, params = c_prototype(proto or "", path)
        ret, params = koffi_type(ret, structs, protos)[1], [koffi_type(t, structs, protos)[1] for t, _ in params]
        if kind == "func":
            check.function("node", name, ret, params)
        else:
            protos[name] = protos[var or name] = Sig(var or name, ret, params)
    for m in re.finditer(r"(?:\b(?:const|let|var)\s+(\w+)\s*=|[{,]\s*(\w+)\s*:)\s*(-?\d+)\b", text):
        check.constant("node", os.path.basename(path), m.group(1) or m.group(2), int(m.group(3)))


# --- Go -------------------------------------------------------------------

def go_struct(check, fname, gotype, body):
    """A Go struct cast from a C pointer: laid out with ctypes (Go aligns
    these types as C does) against the header struct of the same name."""
    header = next((s for s in check.structs if norm(s) == norm(gotype)), None)
    if header is None:
        check.fail("go", "%s: struct %s is cast from a C pointer and mirrors no header struct" % (fname, gotype))
        return
    names = {norm(f["name"]): f["name"] for f in check.structs[header]["fields"]}
    fields = []
    for line in [l.strip() for l in body.splitlines() if l.strip()]:
        m = re.match(r"^(\w+(?:\s*,\s*\w+)*)\s+(?:\[(\d+)\])?(\*?[\w.]+)", line)
        ct = m and (ctypes.c_void_p if m.group(3).startswith("*") else GO.get(m.group(3)))
        if not ct:  # an embedded field, a C type, a slice...: say so
            raise Unknown("Go field %r of struct %s (%s)" % (line, gotype, fname))
        for name in re.split(r"\s*,\s*", m.group(1)):
            fields.append((names.get(norm(name), name), ct * int(m.group(2)) if m.group(2) else ct))
    cls = type(gotype, (ctypes.Structure,), {"_fields_": fields})
    check.layout("go", "%s in %s" % (gotype, fname), header, fields_of(cls), ctypes.sizeof(cls))


def check_go(check, godir, mirrors):
    for path in sorted(glob.glob(os.path.join(godir, "**", "*.go"), recursive=True)):
        fname, text = os.path.relpath(path, godir), open(path).read()
        m = re.search(r"/\*(.*?)\*/\s*import\s+\"C\"", text, re.S)
        preamble = strip_comments(m.group(1)) if m else ""
        declared = {}
        for decl in re.findall(r"(?:extern|static)\s+([^;{}=]*?\([^;{}]*\))\s*[;{]", preamble):
            ret, name, params = c_prototype(re.sub(r"\b(inline|static|extern)\b", " ", decl), fname)
            declared[name] = (ret, params)
        for cb, fn in sorted(set(re.findall(r"\(\s*(\w+)\s*\)\s*&?\s*(\w+)\b", preamble))):
            if cb in check.callbacks and fn in declared:  # sized by the compiler, in check_mirrors
                mirrors.append(CCast("go", fn, cb, *declared[fn], fname))
        body = strip_comments(text[m.end():] if m else text)
        for block in re.findall(r"\bconst\s*\((.*?)\)", body, re.S) + re.findall(r"\bconst\s+(\w[^\n]*)", body):
            for name, value in re.findall(r"^\s*(\w+)(?:\s+[\w.]+)?\s*=\s*(-?\d+)\s*$", block, re.M):
                check.constant("go", fname, name, int(value))
        for gotype in sorted(set(re.findall(r"\(\*(\w+)\)\(unsafe\.Pointer\(", body))):
            sm = re.search(r"\btype\s+%s\s+struct\s*\{(.*?)\}" % gotype, body, re.S)
            if sm:
                go_struct(check, fname, gotype, sm.group(1))
