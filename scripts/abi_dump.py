#!/usr/bin/env python3
"""The ABI of include/kafka_instance.h as the C compiler sees it, as JSON lines.

    scripts/abi_dump.py [--header FILE] [--emit-c]

The header (cbindgen's output) is parsed only to learn the names: its
structs and their fields, enums and their constants, integer macros,
callback typedefs and function prototypes. From those names a C program is
generated and compiled against the header with
`$CC -std=c11 -Wall -Wextra -Werror`; the program prints every size, offset
and value, so those come from the compiler, never from this parser. The
program also asserts (_Static_assert with _Generic) that each parsed
prototype has exactly the type the compiler gives the function or callback,
so a misparsed parameter list fails the build instead of giving a wrong
count. One line per item:

  {"kind": "struct", "name", "c", "size", "align", "fields": [{"name", "type", "offset", "size"}]}
  {"kind": "opaque", "name"}                  declared without a body: no size
  {"kind": "enum", "name", "size", "constants": {"NAME": value}}
  {"kind": "macro", "name", "value"}          integer macros only
  {"kind": "function" | "callback", "name", "param_count",
   "params": [{"name", "type", "size"}], "return": {"type", "size"}}
                                              (a callback also has its "size")
  {"kind": "typedef", "name", "type", "size"} other typedefs

--emit-c prints the generated program instead. Standard library only;
scripts/abi_check.py and abi_bindings.py reuse dump(), the parser's helpers
and Program (to have the compiler lay out the C structs bindings mirror).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(ROOT, "include", "kafka_instance.h")
C_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror"]
INTEGER = re.compile(r"^\(?\s*-?\s*(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?$")


class ParseError(Exception):
    pass


def _ws(text):
    """Whitespace collapsed, so that type texts compare as written."""
    return re.sub(r"\s+", " ", text).strip()


def split_top(text, sep):
    """`text` split at `sep` outside (), [], {} and quotes (parameter lists,
    bodies; quotes for the JavaScript that abi_check.py reads with it)."""
    parts, depth, start, quote = [], 0, 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def split_decl(decl):
    """'const char *const *keys' -> ('const char *const *', 'keys');
    'char message[N]' -> ('char[N]', 'message'); a function pointer
    'void (*cb)(int)' -> ('void (*)(int)', 'cb'); unnamed -> (decl, None)."""
    decl = _ws(decl)
    m = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", decl)
    if m:
        return _ws(decl[:m.start(1)] + decl[m.end(1):]), m.group(1)
    m = re.match(r"^(.*?)\b(\w+)\s*((?:\[[^\]]*\]\s*)*)$", decl)
    head = m.group(1).strip() if m else ""
    # 'int32_t', 'struct X *', 'enum E': no name after the type.
    if not m or not head or re.search(r"(^|\s)(struct|union|enum|const|unsigned|signed)$", head):
        return decl, None
    return _ws(head + m.group(3).replace(" ", "")), m.group(2)


def parse_params(text):
    """A parameter list's [(type, name)]; '(void)' and '()' have none."""
    if _ws(text) in ("", "void"):
        return []
    return [split_decl(p) for p in split_top(text, ",")]


def parse_prototype(decl):
    """'RET name(params)' -> (ret, name, [(type, name)]), or None."""
    m = re.match(r"^(?:extern\s+)?([^()]*?)\b(\w+)\s*\((.*)\)$", decl, re.S)
    if not m or not m.group(1).strip():
        return None
    return _ws(m.group(1)), m.group(2), parse_params(m.group(3))


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def parse_header(text):
    """The header's declarations, by kind (names and type texts only)."""
    text = strip_comments(text)
    # The C++ guard wraps the prototypes in `extern "C" {`: not C.
    text = re.sub(r"#ifdef __cplusplus.*?#endif[^\n]*", " ", text, flags=re.S)
    out = {"struct": [], "opaque": [], "enum": [], "macro": [], "function": [],
           "callback": [], "typedef": []}
    for name, value in re.findall(r"^\s*#\s*define\s+(\w+)[ \t]+([^\n]+)$", text, re.M):
        if INTEGER.match(value.strip()):
            out["macro"].append(name)
    text = re.sub(r"^\s*#[^\n]*$", " ", text, flags=re.M)
    declared, defined = [], set()
    for decl in split_top(text, ";"):
        decl = _ws(decl)
        m = (re.match(r"^typedef (struct|union) (\w*) ?\{(.*)\} (\w+)$", decl)
             or re.match(r"^(struct|union) (\w+) ?\{(.*)\}()$", decl))
        if m:
            what, tag, body, alias = m.groups()
            fields = [split_decl(f) for f in split_top(body, ";")]
            if any(n is None for _, n in fields):
                raise ParseError("unnamed field in %s" % decl[:60])
            out["struct"].append({"name": alias or tag, "fields": fields,
                                  "c": "%s %s" % (what, tag) if tag else alias})
            defined.update({tag, alias})
            continue
        m = (re.match(r"^typedef enum (\w*) ?\{(.*)\} (\w+)$", decl)
             or re.match(r"^enum (\w+) ?\{(.*)\}()$", decl))
        if m:
            tag, body, alias = m.groups()
            names = [_ws(c.split("=")[0]) for c in split_top(body, ",")]
            out["enum"].append({"name": alias or tag, "constants": names,
                                "c": "enum %s" % tag if tag else alias})
            continue
        m = re.match(r"^(?:typedef )?(?:struct|union|enum) (\w+)(?: (\w+))?$", decl)
        if m:  # a declaration without a body: opaque unless defined elsewhere
            declared.append(m.group(2) or m.group(1))
            continue
        m = re.match(r"^typedef (.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)$", decl)
        if m:
            out["callback"].append({"name": m.group(2), "return": _ws(m.group(1)),
                                    "params": parse_params(m.group(3))})
            continue
        if decl.startswith("typedef "):
            ctype, name = split_decl(decl[len("typedef "):])
            if name is None:
                raise ParseError("typedef without a name: %s" % decl[:60])
            if name not in defined:  # `enum X {...}; typedef int32_t X;`
                out["typedef"].append({"name": name, "type": ctype})
            continue
        proto = parse_prototype(decl)
        if proto is None:  # fail loudly rather than skip what may matter
            raise ParseError("unrecognised declaration: %s" % decl[:80])
        ret, name, params = proto
        out["function"].append({"name": name, "return": ret, "params": params})
    out["opaque"] = sorted(set(declared) - defined)
    return out


def c_string(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


class Program:
    """Lines of a C program that prints JSON: static text is formatted
    here; every number is a printf argument evaluated by the compiler."""

    def __init__(self, header_name):
        self.top = ["#include <stdio.h>", '#include "%s"' % header_name, ""]
        self.body = []

    def line(self, obj):
        """Prints json.dumps(obj), each NUM(expr) value replaced by expr."""
        parts, args = [], []
        for piece in re.split(r'"@@(.*?)@@"', json.dumps(obj)):
            if len(parts) % 2:  # an expression
                args.append("(long long)(%s)" % piece.replace('\\"', '"'))
                parts.append("%lld")
            else:
                parts.append(piece.replace("%", "%%"))
        fmt = c_string("".join(parts))[:-1] + '\\n"'
        self.body.append("  printf(%s);" % ", ".join([fmt] + args))

    def source(self):
        return "\n".join(self.top + ["int main(void) {"] + self.body + ["  return 0;", "}", ""])


def NUM(expr):
    return "@@%s@@" % expr


def size_of(ctype):
    return 0 if ctype == "void" else NUM("sizeof(%s)" % ctype)


def fn_type(ret, params):
    """The C type of a pointer to a function: 'RET (*)(T1, T2)'."""
    return "%s (*)(%s)" % (ret, ", ".join(t for t, _ in params) or "void")


def program(header_path):
    """The C program that prints the header's ABI."""
    decls = parse_header(open(header_path).read())
    prog = Program(os.path.basename(header_path))
    for s in decls["struct"]:
        prog.line({"kind": "struct", "name": s["name"], "c": s["c"],
                   "size": NUM("sizeof(%s)" % s["c"]), "align": NUM("_Alignof(%s)" % s["c"]),
                   "fields": [{"name": n, "type": t, "offset": NUM("offsetof(%s, %s)" % (s["c"], n)),
                               "size": NUM("sizeof(((%s *)0)->%s)" % (s["c"], n))}
                              for t, n in s["fields"]]})
    for name in decls["opaque"]:
        prog.line({"kind": "opaque", "name": name})
    for e in decls["enum"]:
        prog.line({"kind": "enum", "name": e["name"], "size": NUM("sizeof(%s)" % e["c"]),
                   "constants": {c: NUM(c) for c in e["constants"]}})
    for name in decls["macro"]:
        prog.line({"kind": "macro", "name": name, "value": NUM(name)})
    for t in decls["typedef"]:
        prog.line({"kind": "typedef", "name": t["name"], "type": t["type"],
                   "size": NUM("sizeof(%s)" % t["name"])})
    for kind in ("callback", "function"):
        for f in decls[kind]:
            # The compiler confirms the parse: the prototype read here is
            # the type it gives the name (else this program does not build).
            what = "(%s)0" % f["name"] if kind == "callback" else "&%s" % f["name"]
            prog.top.append('_Static_assert(_Generic(%s, %s: 1, default: 0), "parsed %s %s");'
                            % (what, fn_type(f["return"], f["params"]), kind, f["name"]))
            line = {"kind": kind, "name": f["name"], "param_count": len(f["params"]),
                    "params": [{"name": n, "type": t, "size": size_of(t)} for t, n in f["params"]],
                    "return": {"type": f["return"], "size": size_of(f["return"])}}
            if kind == "callback":  # the function pointer's own size
                line["size"] = NUM("sizeof(%s)" % f["name"])
            prog.line(line)
    return prog.source()


def compile_and_run(source, include_dir):
    """Builds `source` with $CC (cc) against `include_dir`; its stdout
    lines as parsed JSON. Raises RuntimeError with the compiler's words."""
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory(prefix="abi-dump-") as tmp:
        src, exe = os.path.join(tmp, "abi.c"), os.path.join(tmp, "abi")
        with open(src, "w") as f:
            f.write(source)
        built = subprocess.run([cc] + C_FLAGS + ["-I", include_dir, src, "-o", exe],
                               capture_output=True, text=True)
        if built.returncode != 0:
            raise RuntimeError("%s failed on the generated program:\n%s\n--- program\n%s"
                               % (cc, built.stderr, source))
        ran = subprocess.run([exe], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in ran.stdout.splitlines()]


def dump(header_path=HEADER):
    """The header's ABI: the generated program's lines, parsed."""
    return compile_and_run(program(header_path), os.path.dirname(os.path.abspath(header_path)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--header", default=HEADER)
    ap.add_argument("--emit-c", action="store_true", help="print the C program, do not run it")
    args = ap.parse_args()
    try:
        if args.emit_c:
            sys.stdout.write(program(args.header))
            return 0
        for item in dump(args.header):
            print(json.dumps(item))
    except (ParseError, RuntimeError, OSError) as e:
        print("abi_dump: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
