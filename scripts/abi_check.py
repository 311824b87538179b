#!/usr/bin/env python3
"""Fails when a hand-written binding disagrees with include/kafka_instance.h.

    scripts/abi_check.py [--header H] [--python-dir D] [--node-file F] [--go-dir D]

The header's layouts, values and prototypes come from the C compiler
(scripts/abi_dump.py). The bindings are read as source, never run:
native.py and index.js load the library on import, which needs a build.
(scripts/abi_bindings.py reads them; this file compares.)
- Python (python/kafka_instance/): the ctypes Structures, CFUNCTYPEs and
  _sig() prototypes are rebuilt from their `ast` with real ctypes types,
  so ctypes lays them out as it will at run time; also the struct.Struct
  formats and the C struct of _speedups.c that mirror header structs.
- Node (node/index.js): koffi.struct, koffi.proto and lib.func texts.
  koffi lays structs out as C does, so each is rebuilt with ctypes.
- Go (go/): cgo includes the header, so only what is written by hand: C
  functions of the preamble cast to a header callback type (the cast hides
  a wrong prototype from the compiler), integer consts named like a header
  constant, Go structs cast from C pointers.
One line per disagreement; exit status 1 when there is any, 2 when the
check cannot run (no C compiler, a declaration it cannot read).
"""

import argparse
import collections
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import abi_dump  # noqa: E402
from abi_dump import NUM, ROOT  # noqa: E402
from abi_bindings import VOID, CMirror, Sig, T, Unknown, check_go, check_node, check_python, norm  # noqa: E402


KINDS = ("structs", "functions", "callbacks", "constants")  # as counted for the summary


class Check:
    """The header's ABI, and the comparisons every binding goes through."""

    def __init__(self, abi):
        by = collections.defaultdict(dict)
        for item in abi:
            by[item["kind"]][item["name"]] = item
        self.structs, self.opaque, self.enums = by["struct"], by["opaque"], by["enum"]
        self.functions, self.callbacks = by["function"], by["callback"]
        self.constants = {n: v for e in self.enums.values() for n, v in e["constants"].items()}
        self.constants.update({n: m["value"] for n, m in by["macro"].items()})
        self.problems, self.seen = [], set()
        self.counts = collections.defaultdict(collections.Counter)

    def fail(self, binding, message):
        self.problems.append("%s: %s" % (binding, message))

    def layout(self, binding, label, name, fields, size):
        """`fields`: [(name, offset, size)] as the binding lays them out."""
        self.counts[binding]["structs"] += 1
        what = "struct %s (%s)" % (name, label) if label != name else "struct %s" % name
        if name not in self.structs:
            self.fail(binding, "%s: the header %s" % (what, "keeps it opaque" if name in self.opaque
                                                      else "has no such struct"))
            return
        header = self.structs[name]
        theirs = {f["name"]: f for f in header["fields"]}
        if [f[0] for f in fields] != list(theirs):
            self.fail(binding, "%s fields are (%s), header says (%s)"
                      % (what, ", ".join(f[0] for f in fields), ", ".join(theirs)))
        for fname, offset, fsize in fields:
            h = theirs.get(fname)
            if h is None:
                self.fail(binding, "%s field '%s' is not in the header" % (what, fname))
            elif offset != h["offset"]:
                self.fail(binding, "%s field '%s' at offset %d, header says %d" % (what, fname, offset, h["offset"]))
            elif fsize != h["size"]:
                self.fail(binding, "%s field '%s' is %d bytes, header says %d" % (what, fname, fsize, h["size"]))
        for missing in [n for n in theirs if n not in {f[0] for f in fields}]:
            self.fail(binding, "%s lacks field '%s' (offset %d)" % (what, missing, theirs[missing]["offset"]))
        if size != header["size"]:
            self.fail(binding, "%s is %d bytes, header says %d" % (what, size, header["size"]))

    def function(self, binding, name, ret, params):
        self.counts[binding]["functions"] += 1
        if name not in self.functions:
            self.fail(binding, "function %s is not in the header" % name)
        else:
            self.signature(binding, "function %s" % name, self.functions[name], ret, params)

    def signature(self, binding, what, header, ret, params):
        if len(params) != header["param_count"]:
            self.fail(binding, "%s takes %d parameters, header says %d" % (what, len(params), header["param_count"]))
            return
        for i, (mine, theirs) in enumerate(zip(params, header["params"])):
            self.value(binding, "%s parameter %d '%s'" % (what, i + 1, theirs["name"]), mine, theirs)
        if (ret is VOID) != (header["return"]["size"] == 0):
            self.fail(binding, "%s returns %s, header returns %s"
                      % (what, "void" if ret is VOID else "a value", header["return"]["type"]))
        elif ret is not VOID:
            self.value(binding, "%s return value" % what, ret, header["return"])

    def value(self, binding, what, mine, theirs):
        ctext = theirs["type"]
        if mine.size != theirs["size"]:
            self.fail(binding, "%s is %d bytes, header's %s is %d" % (what, mine.size, ctext, theirs["size"]))
        base = re.sub(r"\b(const|struct|union)\b|\*", " ", ctext).strip()
        if mine.pointee and (ctext.count("*") != 1 or base != mine.pointee):
            self.fail(binding, "%s points to %s, header's is %s" % (what, mine.pointee, ctext))
        # A callback's own prototype, once per binding declaration and type.
        if mine.sig and ctext in self.callbacks and (binding, mine.sig.label, ctext) not in self.seen:
            self.seen.add((binding, mine.sig.label, ctext))
            self.counts[binding]["callbacks"] += 1
            self.signature(binding, "callback %s (a %s)" % (mine.sig.label, ctext), self.callbacks[ctext],
                           mine.sig.ret, mine.sig.params)

    def constant(self, binding, where, name, value):
        """A number the binding copies, found by its name."""
        match = [c for c in self.constants if c == name or norm(c) == norm(name)]
        if match:
            self.counts[binding]["constants"] += 1
            if self.constants[match[0]] != value:
                self.fail(binding, "%s: %s = %d, header's %s is %d"
                          % (where, name, value, match[0], self.constants[match[0]]))


# --- the mirrors, through the compiler ------------------------------------

def check_mirrors(check, mirrors, header):
    """Lays out the C mirrors and sizes the C functions cast to callbacks
    with the compiler: one C program of their text and the header."""
    prog = abi_dump.Program(os.path.basename(header))
    for m in mirrors:
        if isinstance(m, CMirror):
            prog.top.append(m.typedef)
            prog.line({"size": NUM("sizeof(%s)" % m.cname), "fields": [
                [f, NUM("offsetof(%s, %s)" % (m.cname, f)), NUM("sizeof(((%s *)0)->%s)" % (m.cname, f))]
                for f in m.fields]})
        else:
            prog.line({"ret": abi_dump.size_of(m.ret), "params": [abi_dump.size_of(t) for t, _ in m.params]})
    out = abi_dump.compile_and_run(prog.source(), os.path.dirname(os.path.abspath(header))) if mirrors else []
    for m, got in zip(mirrors, out):
        if isinstance(m, CMirror):
            check.layout(m.binding, m.label, m.header, [tuple(f) for f in got["fields"]], got["size"])
        else:  # a function pointer whose prototype is the C function's
            sig = Sig("%s in %s" % (m.fn, m.file), T(got["ret"]) if got["ret"] else VOID, [T(s) for s in got["params"]])
            pointer = {"type": m.callback, "size": check.callbacks[m.callback]["size"]}
            check.value(m.binding, "%s cast to %s" % (m.fn, m.callback), T(pointer["size"], None, sig), pointer)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--header", default=abi_dump.HEADER)
    ap.add_argument("--python-dir", default=os.path.join(ROOT, "python", "kafka_instance"))
    ap.add_argument("--node-file", default=os.path.join(ROOT, "node", "index.js"))
    ap.add_argument("--go-dir", default=os.path.join(ROOT, "go"))
    args = ap.parse_args()
    try:
        check, mirrors = Check(abi_dump.dump(args.header)), []
        check_python(check, args.python_dir, mirrors)
        check_node(check, args.node_file)
        check_go(check, args.go_dir, mirrors)
        check_mirrors(check, mirrors, args.header)
    except (abi_dump.ParseError, RuntimeError, OSError, Unknown, SyntaxError) as e:
        print("abi_check: cannot check: %s" % e, file=sys.stderr)
        return 2
    for problem in check.problems:
        print(problem)
    shown = os.path.abspath(args.header)
    shown = os.path.relpath(shown, ROOT) if shown.startswith(ROOT + os.sep) else shown
    summary = "; ".join("%s: %s" % (binding, ", ".join("%d %s" % (n[k], k) for k in KINDS))
                        for binding, n in sorted(check.counts.items()))
    if check.problems:
        print("abi_check: FAILED: %d disagreement(s) with %s (checked %s)" % (len(check.problems), shown, summary))
        return 1
    print("abi_check: the bindings agree with %s (checked %s)" % (shown, summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
