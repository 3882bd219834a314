#!/usr/bin/env python3
"""prepare_convert.py — the untimed preparation of the SQL comparison in make bench.

    prepare_convert.py EXTRACTS CONFDIR OUTDIR

Neither PostgreSQL nor DuckDB reads XLSX workbooks, and DuckDB reads no XML: a user of either
first converts those files with a script.  This is that script (Python standard library only).
For every connector definition in CONFDIR of format xlsx or xml it writes OUTDIR/<source>.tsv:
a header row, then one line per record, values separated by tabs, no quoting.

  xlsx: every column of the definition's sheet, as the sheet holds it: shared and inline
        strings as text, numbers in date-formatted cells as ISO dates (yyyy-mm-dd), other
        numbers as written in the file (an ID typed into a number cell stays 2.22E+17).
  xml:  one column per mapped field of the definition (named after the canonical field),
        from the record element's child path or attribute, namespaces ignored.

A value holding a tab or a line break is an error (the loaders split on tabs).  The files are
small (about 100,000 rows at S); make bench converts them once per data set and caches them.
"""
import csv, datetime as dt, glob, io, os, re, sys, zipfile
import xml.etree.ElementTree as ET


def parse_conf(path):
    sec, src, fields = None, {}, {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("["):
            sec = line.strip()[1:-1]
            continue
        k, v = line.split("=", 1)
        v = re.sub(r"\s+#.*$", "", v.strip())
        if sec == "source":
            src[k.strip()] = v
        else:
            fields[k.strip()] = v.split("|")[0].strip()
    return src, fields


def local(tag):
    return tag.rsplit("}", 1)[-1]


def xlsx_rows(data, sheet):
    z = zipfile.ZipFile(io.BytesIO(data))
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    d1904 = any(local(e.tag) == "workbookPr" and e.get("date1904") in ("1", "true") for e in wb.iter())
    sheets = [(e.get("name"), next(v for k, v in e.attrib.items() if local(k) == "id"))
              for e in wb.iter() if local(e.tag) == "sheet"]
    rid = next(r for n, r in sheets if not sheet or n == sheet)
    target = rels[rid]
    target = target[1:] if target.startswith("/") else "xl/" + target
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")):
            shared.append("".join(t.text or "" for t in si.iter() if local(t.tag) == "t"))
    st = ET.fromstring(z.read("xl/styles.xml"))
    fmts = {int(f.get("numFmtId")): f.get("formatCode") for f in st.iter() if local(f.tag) == "numFmt"}
    xfs = next(e for e in st if local(e.tag) == "cellXfs")

    def is_date(fid):
        if fid in (14, 15, 16, 17, 22) or 27 <= fid <= 36 or 50 <= fid <= 58:
            return True
        code = re.sub(r'"[^"]*"|\[[^]]*\]', "", fmts.get(fid, ""))
        return bool(re.search(r"[ymdYMD]", code))

    date_style = [is_date(int(x.get("numFmtId", 0))) for x in xfs]
    base = dt.date(1904, 1, 1) if d1904 else dt.date(1899, 12, 30)
    for row in ET.fromstring(z.read(target)).iter():
        if local(row.tag) != "row":
            continue
        cells = {}
        for c in row:
            col = 0
            for ch in re.match(r"[A-Z]+", c.get("r")).group(0):
                col = col * 26 + ord(ch) - 64
            t = c.get("t", "n")
            v = next((x.text for x in c if local(x.tag) == "v"), None)
            if t == "s":
                val = shared[int(v)]
            elif t == "inlineStr":
                val = "".join(x.text or "" for x in c.iter() if local(x.tag) == "t")
            elif v is None:
                continue
            elif t == "n" and date_style[int(c.get("s", 0))]:
                val = (base + dt.timedelta(days=int(float(v)))).isoformat()
            else:
                val = v
            cells[col - 1] = val
        if any(v != "" for v in cells.values()):
            yield [cells.get(i, "") for i in range(max(cells) + 1)]


def xml_get(el, path):
    parts = path.split("/")
    for p in parts[:-1]:
        el = next((c for c in el if local(c.tag) == p), None)
        if el is None:
            return ""
    last = parts[-1]
    if last.startswith("@"):
        return next((v for k, v in el.attrib.items() if local(k) == last[1:]), "")
    el = next((c for c in el if local(c.tag) == last), None)
    return "" if el is None else "".join(el.itertext())


def xml_rows(data, path, fields):
    anywhere = path.startswith("//")
    want = [p for p in path.strip("/").split("/") if p]
    stack = []
    for ev, el in ET.iterparse(io.BytesIO(data), events=("start", "end")):
        if ev == "start":
            stack.append(local(el.tag))
            continue
        if (stack[-len(want):] == want) if anywhere else (stack == want):
            yield [xml_get(el, fields[f]) for f in fields]
            el.clear()
        stack.pop()


def write_tsv(path, header, rows):
    n = 0
    with open(path + ".part", "w", encoding="utf-8", newline="\n") as out:
        for r in [header] + list(rows):
            for v in r:
                if "\t" in v or "\n" in v or "\r" in v:
                    sys.exit(f"prepare_convert: {path}: a value holds a tab or line break: {v!r}")
            out.write("\t".join(r) + "\n")
            n += 1
    os.replace(path + ".part", path)
    return n - 1


def xlsx_files(files, sheet):
    """The header and the rows of one source's workbooks (an export in parts, name_D.xlsx,
    name_D_2.xlsx, ...: the same header in each), one after the other."""
    first = xlsx_rows(open(files[0], "rb").read(), sheet)
    header = [h.strip() for h in next(first)]
    def body():
        rows = first
        for i, f in enumerate(files):
            if i:
                rows = xlsx_rows(open(f, "rb").read(), sheet)
                h = [h.strip() for h in next(rows)]
                if h != header:
                    sys.exit(f"prepare_convert: {os.path.basename(f)}: header {h}, not {header}")
            yield from ([*r, *[""] * (len(header) - len(r))] for r in rows)
    return header, body()


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    extracts, confdir, outdir = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    for conf in sorted(glob.glob(os.path.join(confdir, "*.conf"))):
        src, fields = parse_conf(conf)
        fmt = src.get("format", "csv")
        if fmt not in ("xlsx", "xml"):
            continue
        globs = [g.strip() for g in src["files"].split(",")]
        files = sorted(f for g in globs for f in glob.glob(os.path.join(extracts, g)))
        if not files:
            sys.exit(f"prepare_convert: {src['name']}: no file matches {src['files']}")
        out = os.path.join(outdir, src["name"] + ".tsv")
        if fmt == "xlsx":
            n = write_tsv(out, *xlsx_files(files, src.get("sheet")))
        else:
            n = write_tsv(out, list(fields), (r for f in files for r in xml_rows(open(f, "rb").read(),
                                                                                src["record"], fields)))
        names = ", ".join(os.path.basename(f) for f in files)
        print(f"prepare_convert: {names} -> {src['name']}.tsv: {n} records")


if __name__ == "__main__":
    main()
