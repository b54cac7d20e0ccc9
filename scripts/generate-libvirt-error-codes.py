#!/usr/bin/env python3
"""Writes Sources/Libvirt/Errors/LibvirtError+Codes.swift from libvirt's virterror.h.

The file holds one `LibvirtError.Code` constant per `VIR_ERR_*` of `virErrorNumber` (not `VIR_ERR_OK`, not
the `VIR_WAR_*` warnings) and one `LibvirtError.Origin` constant per `VIR_FROM_*` of `virErrorDomain`, with
the tables of libvirt's own names that `description` prints. Names only: values libvirt adds later are
kept as raw numbers by the binding, so a newer header only adds names.

Run it after moving to another libvirt and commit the result:
    python3 scripts/generate-libvirt-error-codes.py            # rewrites the file
    python3 scripts/generate-libvirt-error-codes.py --check    # exits 1 if the file differs
    python3 scripts/generate-libvirt-error-codes.py --header /path/virterror.h --output -
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = "/usr/include/libvirt/virterror.h"
OUTPUT = os.path.join(ROOT, "Sources/Libvirt/Errors/LibvirtError+Codes.swift")
SCRIPT = "scripts/generate-libvirt-error-codes.py"


def enum_body(text, name):
    """The text between `typedef enum {` and `} name;`."""
    match = re.search(r"typedef\s+enum\s*\{([^{}]*)\}\s*" + name + r"\s*;", text)
    if not match:
        sys.exit(f"{SCRIPT}: no enum {name} in the header")
    return match.group(1)


def members(body, prefix):
    """(C name, value) for every `PREFIX_NAME = N` of the enum body, in order."""
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    found = re.findall(r"\b(" + prefix + r"[A-Z0-9_]+)\s*=\s*(\d+)", body)
    return [(c_name, int(value)) for c_name, value in found]


def camel(suffix):
    """VIR_ERR_NO_DOMAIN -> noDomain: the part after the prefix, words joined, first one lower case."""
    words = suffix.lower().split("_")
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def libvirt_version(header):
    """major.minor from LIBVIR_VERSION_NUMBER in libvirt-common.h beside the header, else pkg-config's."""
    common = os.path.join(os.path.dirname(header), "libvirt-common.h")
    try:
        with open(common) as f:
            match = re.search(r"#\s*define\s+LIBVIR_VERSION_NUMBER\s+(\d+)", f.read())
        if match:
            n = int(match.group(1))
            return f"{n // 1000000}.{n // 1000 % 1000}"
    except OSError:
        pass
    version = os.popen("pkg-config --modversion libvirt 2>/dev/null").read().strip()
    return ".".join(version.split(".")[:2]) or "unknown"


def generate(header):
    with open(header) as f:
        text = f.read()
    codes = [(c, v) for c, v in members(enum_body(text, "virErrorNumber"), "VIR_ERR_") if c != "VIR_ERR_OK"]
    origins = members(enum_body(text, "virErrorDomain"), "VIR_FROM_")
    out = [
        f"// Generated from {header} (libvirt {libvirt_version(header)}) by {SCRIPT}; names only.",
        "// libvirt may add codes later: unknown values are kept as raw numbers, never dropped.",
        "",
        "extension LibvirtError.Code {",
    ]
    for c_name, value in codes:
        out += [f"    /// `{c_name}`", f"    public static let {camel(c_name[len('VIR_ERR_'):])} = Self(rawValue: {value})"]
    out += ["", "    static let libvirtNames: [Int32: String] = ["]
    out += [f'        {value}: "{c_name}",' for c_name, value in codes]
    out += ["    ]", "}", "", "extension LibvirtError.Origin {"]
    for c_name, value in origins:
        out += [f"    /// `{c_name}`", f"    public static let {camel(c_name[len('VIR_FROM_'):])} = Self(rawValue: {value})"]
    out += ["", "    static let libvirtNames: [Int32: String] = ["]
    out += [f'        {value}: "{c_name[len("VIR_FROM_"):].lower()}",' for c_name, value in origins]
    out += ["    ]", "}"]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--header", default=HEADER, help=f"libvirt's virterror.h (default {HEADER})")
    parser.add_argument("--output", default=OUTPUT, help="the Swift file to write, - for stdout")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the output file differs")
    args = parser.parse_args()
    swift = generate(args.header)
    if args.check:
        try:
            with open(args.output) as f:
                current = f.read()
        except OSError:
            current = None
        if current != swift:
            print(f"{args.output} is not what {SCRIPT} generates from {args.header}", file=sys.stderr)
            return 1
        return 0
    if args.output == "-":
        sys.stdout.write(swift)
    else:
        with open(args.output, "w") as f:
            f.write(swift)
    return 0


if __name__ == "__main__":
    sys.exit(main())
