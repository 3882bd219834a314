#!/usr/bin/env python3
"""crosscheck.py — recompute the synth truth from the extracts alone.

A second, independent reading of tests/synth/SPEC.md (Python, standard library
only), for developing the generator and the connector definitions: it reads
every extract through connectors/agencies/*.conf (header names, transforms),
rejects malformed rows, folds duplicates (the same canonical values, as the engine does), links rows by ID (and by
truth/hidden_links.csv when the run had noise), recomputes every list and
compares it with DIR/truth/, and checks truth/counts.csv.

    python3 tests/synth/crosscheck.py DIR ASOF [CONFDIR]

Exit 0 when everything matches.  It reads every format the definitions use,
with its own code (no connector C code): delimited text (any delimiter,
quoting, BOM, header or positions), fixed width (bytes or characters), JSON
Lines (key paths), XML (record path, child paths, attributes; namespaces
ignored), XLSX (shared / inline strings, date styles), gzip, GBK and GB18030
(a byte not valid in the declared encoding rejects the record when it lies in
a mapped field).  About 5 minutes and 8 GB of memory for 700,000 persons;
meant for runs of up to ~100,000."""
import csv, sys, os, re, io, glob, gzip, json, zipfile, fnmatch, datetime as dt, collections, calendar
import xml.etree.ElementTree as ET

OUT, ASOF = sys.argv[1], dt.date.fromisoformat(sys.argv[2])
CONFDIR = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "connectors", "agencies")
D = ASOF
W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]; MAP = "10X98765432"

def parse_conf(path):
    sec = None; src = {}; fields = {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"): continue
        if line.startswith("["): sec = line.strip()[1:-1]; continue
        k, v = line.split("=", 1); k = k.strip(); v = v.strip()
        if sec == "source":
            v = re.sub(r"\s+#.*$", "", v)
            src[k] = v
        else:
            parts = [p.strip() for p in split_pipes(v)]
            fields[k] = (parts[0], parts[1:])
    return src, fields

def split_pipes(v):
    out, depth, cur = [], 0, ""
    for c in v:
        if c == "(": depth += 1
        if c == ")": depth -= 1
        if c == "|" and depth == 0: out.append(cur); cur = ""
        else: cur += c
    out.append(cur); return out

class Reject(Exception): pass

FW = {chr(0xFF10+i): str(i) for i in range(10)}; FW["Ｘ"] = "X"
def idnum(v):
    v = "".join(FW.get(c, c) for c in v.strip()).upper()
    if len(v) != 18 or not v[:17].isdigit() or v[17] not in "0123456789X": raise Reject("id")
    if MAP[sum(int(v[i])*W[i] for i in range(17)) % 11] != v[17]: raise Reject("check")
    try: dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError: raise Reject("id date")
    return v

def date(v):
    v = re.sub(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", "", v.strip())
    for rx in (r"^(\d{4})(\d{2})(\d{2})$", r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{4})/(\d{1,2})/(\d{1,2})$", r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"):
        m = re.match(rx, v)
        if m:
            try: return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError: raise Reject("date")
    raise Reject("date fmt " + v)

def month(v):
    v = v.strip()
    m = re.match(r"^(\d{4})-?(\d{2})$", v) or re.match(r"^(\d{4})年(\d{1,2})月$", v)
    if not m or not 1 <= int(m[2]) <= 12: raise Reject("month")
    return int(m[1]) * 100 + int(m[2])

def money(v):
    v = v.strip()
    if not re.match(r"^-?\d+(\.\d{1,2})?$", v): raise Reject("money")
    i, _, f = v.partition("."); return int(i) * 100 + (int(f.ljust(2, "0")) if f else 0) * (-1 if v.startswith("-") else 1)

def code(spec):
    table = {}
    for item in spec.split(","):
        a, b = item.split(":"); table[a.strip()] = b.strip()
    def f(v):
        v = v.strip()
        if v in table: return table[v]
        if "*" in table: return table["*"]
        raise Reject("code " + v)
    return f

def transform(name):
    if name == "trim": return lambda v: v.strip()
    if name == "name": return lambda v: v.strip()
    if name == "idnum": return idnum
    if name == "date": return date
    if name == "month": return month
    if name == "money": return money
    if name == "int": return lambda v: int(v)
    if name.startswith("code("): return code(name[5:-1])
    if name.startswith("split("): return lambda v: v      # the cell is split before (members)
    if name.startswith("default("):
        d = name[8:-1]; return lambda v: v if v.strip() else d
    raise SystemExit("unknown transform " + name)

def split_members(cells, fields):
    """A row's members: split(SEPARATORS) first in a field's chain cuts its cell at any of the
    separators (values trimmed, empty ones dropped); the k-th values of the split fields make
    the k-th member.  Unequal counts or more than 64 values reject the row."""
    counts, pieces = set(), {}
    for k, (col, ts) in fields.items():
        if ts and ts[0].startswith("split("):
            seps = ts[0][6:-1]
            vals = [v.strip(" \t\u3000") for v in re.split("[" + re.escape(seps) + "]", cells[k])]
            vals = [v for v in vals if v] or [""]
            if len(vals) > 64: raise Reject("more than 64 values")
            pieces[k] = vals; counts.add(len(vals))
    if len(counts) > 1: raise Reject("unequal split values")
    n = counts.pop() if counts else 1
    return [{k: (pieces[k][i] if k in pieces else v) for k, v in cells.items()} for i in range(n)]

REQUIRED = {"register": {"id_number","division","status"}, "death": {"id_number","death_date"},
  "resident_pension": {"id_number","status"}, "pension_payment": {"id_number","month","basic"},
  "prison": {"id_number","start_date"}, "disability": {"id_number","grade"}, "provident_fund": {"id_number","month"},
  "medical_claim": {"id_number","date"}, "tax_collection": {"id_number","date","amount","type"},
  "certification": {"id_number","date"}}
for k in ("employee_pension","institution_pension","student","dibao","tekun","poor_household","employee_medical","enterprise_roster"):
    REQUIRED[k] = {"id_number","start_date"}

ext = os.path.join(OUT, "extracts")
HL = {}
hp = os.path.join(OUT, "truth", "hidden_links.csv")
if os.path.exists(hp):
    for r in list(csv.reader(open(hp, encoding="utf-8")))[1:]:
        HL[(r[0], int(r[1]))] = r[2]
files = sorted(os.listdir(ext))
facts = collections.defaultdict(lambda: collections.defaultdict(list))
counts = {}
problems = []
class Bad(Exception): pass           # a record the reader itself rejects

def raw_bytes(path):
    data = open(path, "rb").read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data

def decode(b, enc):
    # an invalid byte becomes one lone surrogate: one character, rejected when mapped
    return b.decode({"utf-8": "utf-8", "gbk": "gbk", "gb18030": "gb18030"}[enc.lower()], "surrogateescape")

def lines_of(text):
    if text.startswith("\ufeff"): text = text[1:]
    for ln in text.split("\n"):
        if ln.endswith("\r"): ln = ln[:-1]
        if ln.strip(" \t"): yield ln

def local(tag): return tag.rsplit("}", 1)[-1]

def xml_get(el, path):
    parts = path.split("/")
    for p in parts[:-1]:
        if p == ".": continue
        el = next((c for c in el if local(c.tag) == p), None)
        if el is None: return None
    last = parts[-1]
    if last.startswith("@"):
        return next((v for k, v in el.attrib.items() if local(k) == last[1:]), None)
    if last != ".":
        el = next((c for c in el if local(c.tag) == last), None)
        if el is None: return None
    return "".join(el.itertext())

def xml_records(data, path):
    anywhere = path.startswith("//"); want = [p for p in path.strip("/").split("/") if p]
    stack = []
    for ev, el in ET.iterparse(io.BytesIO(data), events=("start", "end")):
        if ev == "start": stack.append(local(el.tag)); continue
        names = stack
        hit = (names[-len(want):] == want) if anywhere else (names == want)
        if hit and not any((names[:i][-len(want):] == want) if anywhere else names[:i] == want for i in range(len(want), len(names))):
            yield el
            el.clear()
        stack.pop()

def excel_date(serial, d1904):
    v = float(serial); days = int(v)
    base = dt.date(1904, 1, 1) if d1904 else dt.date(1899, 12, 30)
    return (base + dt.timedelta(days=days)).isoformat()

def xlsx_rows(data, sheet):
    z = zipfile.ZipFile(io.BytesIO(data)); N = lambda t: t.rsplit("}", 1)[-1]
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    d1904 = any(N(e.tag) == "workbookPr" and e.get("date1904") in ("1", "true") for e in wb.iter())
    sheets = [(e.get("name"), next(v for k, v in e.attrib.items() if N(k) == "id")) for e in wb.iter() if N(e.tag) == "sheet"]
    rid = next(r for n, r in sheets if sheet is None or n == sheet)
    target = rels[rid]; target = target[1:] if target.startswith("/") else "xl/" + target
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")):
            shared.append("".join(t.text or "" for t in si.iter() if N(t.tag) == "t"))
    st = ET.fromstring(z.read("xl/styles.xml"))
    fmts = {int(f.get("numFmtId")): f.get("formatCode") for f in st.iter() if N(f.tag) == "numFmt"}
    xfs = next(e for e in st if N(e.tag) == "cellXfs")
    def is_date(fid):
        if fid in (14, 15, 16, 17, 22) or 27 <= fid <= 36 or 50 <= fid <= 58: return True
        code = re.sub(r'"[^"]*"|\[[^]]*\]', "", fmts.get(fid, ""))
        return bool(re.search(r"[ymdYMD]", code))
    date_style = [is_date(int(x.get("numFmtId", 0))) for x in xfs]
    for row in ET.fromstring(z.read(target)).iter():
        if N(row.tag) != "row": continue
        cells = {}
        for c in row:
            ref = c.get("r"); col = 0
            for ch in re.match(r"[A-Z]+", ref).group(0): col = col * 26 + ord(ch) - 64
            t = c.get("t", "n"); v = next((x.text for x in c if N(x.tag) == "v"), None)
            if t == "s": val = shared[int(v)]
            elif t == "inlineStr": val = "".join(x.text or "" for x in c.iter() if N(x.tag) == "t")
            elif v is None: continue
            elif t == "n" and date_style[int(c.get("s", 0))]: val = excel_date(v, d1904)
            else: val = v
            cells[col - 1] = val
        if any(v != "" for v in cells.values()):
            yield [cells.get(i, "") for i in range(max(cells) + 1)]

def records(path, src, fields):
    """Yields a getter per record (column -> raw text or None), or Bad."""
    fmt = src.get("format", "csv"); enc = src.get("encoding", "utf-8"); data = raw_bytes(path)
    unq = lambda v: v[1:-1].encode().decode("unicode_escape") if len(v) >= 2 and v[0] == '"' else v
    if fmt == "csv":
        text = decode(data, enc)
        if text.startswith("\ufeff"): text = text[1:]
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=unq(src.get("delimiter", '","')),
                                       quotechar=unq(src.get("quote", '"\\""'))) if r]
        if src.get("header", "yes") == "yes":
            header = [h.strip() for h in rows[0]]; rows = rows[1:]
            for col, _ in fields.values():
                if col not in header: problems.append(f"{path}: column {col} missing")
            for r in rows:
                yield Bad if len(r) != len(header) else (lambda c, r=r: r[header.index(c)])
        else:
            need = max(int(c) for c, _ in fields.values())
            for r in rows:
                yield Bad if len(r) < need else (lambda c, r=r: r[int(c) - 1])
    elif fmt == "fixed":
        chars = src.get("positions", "bytes") == "characters"
        if chars:
            for ln in lines_of(decode(data, enc)):
                yield lambda c, ln=ln: ln[int(c.split("-")[0]) - 1:int(c.split("-")[1])]
        else:
            for ln in lines_of(data.decode("latin-1")):
                b = ln.encode("latin-1")
                yield lambda c, b=b: decode(b[int(c.split("-")[0]) - 1:int(c.split("-")[1])], enc)
    elif fmt == "jsonl":
        def bad_const(x): raise ValueError(x)
        for ln in lines_of(decode(data, enc)):
            try: obj = json.loads(ln, parse_float=str, parse_int=str, parse_constant=bad_const)
            except ValueError: yield Bad; continue
            if not isinstance(obj, dict): yield Bad; continue
            def get(c, obj=obj):
                v = obj
                for k in c.split("/"):
                    if not isinstance(v, dict) or k not in v: return None
                    v = v[k]
                return None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            yield get
    elif fmt == "xml":
        for el in xml_records(data, src["record"]):
            vals = {c: xml_get(el, c) for c, _ in fields.values()}
            yield lambda c, vals=vals: vals[c]
    elif fmt == "xlsx":
        rows = list(xlsx_rows(data, src.get("sheet")))
        header = [h.strip() for h in rows[0]]
        for r in rows[1:]:
            r = r + [""] * (len(header) - len(r))
            yield Bad if len(r) != len(header) else (lambda c, r=r: r[header.index(c)])
    else:
        raise SystemExit(f"{path}: unknown format {fmt}")

for conf in sorted(glob.glob(os.path.join(CONFDIR, "*.conf"))):
    src, fields = parse_conf(conf)
    globs = [g.strip() for g in src["files"].split(",")]
    mine = [f for f in files if any(fnmatch.fnmatch(f, g) for g in globs)]
    if not mine: problems.append(f"{conf}: no file")
    fact = src["fact"]
    tf = {k: (col, [transform(t) for t in ts]) for k, (col, ts) in fields.items()}
    for fn in mine:
        seen = set(); n = mal = dup = 0
        for get in records(os.path.join(ext, fn), src, fields):
            n += 1
            if get is Bad: mal += 1; continue
            try:
                cells = {}
                for k, (col, ts) in tf.items():
                    v = get(col)
                    v = "" if v is None else v
                    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in v): raise Reject("encoding")
                    cells[k] = v
                members = split_members(cells, fields)
                recs = []
                for m in members:
                    rec = {}
                    for k, (col, ts) in tf.items():
                        v = m[k]
                        if k == "id_number" and len(members) == 1 and (fn, n) in HL:
                            rec[k] = HL[(fn, n)]; continue
                        if v.strip(" \t\u3000") == "":
                            if k in REQUIRED[fact]: raise Reject("required " + k)
                            rec[k] = None; continue
                        for t in ts: v = t(v)
                        rec[k] = v
                    recs.append(rec)
            except Reject:
                mal += 1; continue
            key = tuple(tuple(sorted(rec.items(), key=lambda kv: kv[0])) for rec in recs)
            if key in seen: dup += 1; continue          # the same canonical values: a duplicate
            seen.add(key)
            for rec in recs:
                if rec.get("id_number") == "": continue    # a person not on the register: nobody's fact
                if fact == "death": rec["evidence"] = src["evidence"]
                facts[rec["id_number"]][fact].append(rec)
        counts[fn] = (n, mal, dup)
# ref divisions
ref = list(csv.reader(open(os.path.join(ext, "ref_divisions.csv"), encoding="utf-8")))[1:]
counts["ref_divisions.csv"] = (len(ref), 0, 0)

# counts.csv
for row in list(csv.reader(open(os.path.join(OUT, "truth", "counts.csv"))))[1:]:
    fn, r, m, d = row[0], int(row[1]), int(row[2]), int(row[3])
    if counts.get(fn) != (r, m, d): problems.append(f"counts {fn}: truth {(r,m,d)} reader {counts.get(fn)}")

def add_months(d, n):
    t = d.year * 12 + d.month - 1 + n; y, m = divmod(t, 12); m += 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
def birthday(b, years):
    y = b.year + years
    if b.month == 2 and b.day == 29 and not calendar.isleap(y): return dt.date(y, 3, 1)
    return dt.date(y, b.month, b.day)
def age(b, on): return on.year - b.year - ((on.month, on.day) < (b.month, b.day))
def active(r, on): return r["start_date"] is not None and r["start_date"] <= on and (r["end_date"] is None or r["end_date"] >= on)
def within(z, n): return z is not None and add_months(D, -n) < z <= D
def ymfirst(ym): return dt.date(ym // 100, ym % 100, 1)
def ymadd(ym, n): t = ym // 100 * 12 + ym % 100 - 1 + n; return t // 12 * 100 + t % 12 + 1
def ym(d): return d.year * 100 + d.month
def m2(c): return f"{c // 100}.{c % 100:02d}"

L = collections.defaultdict(list)
towns = {c: [0, 0] for c, n, lv, p in ref if lv == "乡镇" and c.startswith("222401")}
for c, n, lv, p in ref:
    if lv == "村" and c[:9] in towns: towns[c[:9]][1] += 1

for pid, F in facts.items():
    regs = F.get("register", [])
    if len(regs) != 1: problems.append(f"{pid}: {len(regs)} register rows"); continue
    reg = regs[0]; birth = reg["birth_date"]; a = age(birth, D)
    ev = {}
    if reg["status"] == "cancelled" and reg["cancel_reason"] == "death" and reg["cancel_date"]:
        ev.setdefault("police", []).append(reg["cancel_date"])
    for r in F.get("death", []):
        ev.setdefault(r["evidence"], []).append(r["death_date"])
    cred = {e: [z for z in zs if birth <= z <= D] for e, zs in ev.items()}
    cred = {e: zs for e, zs in cred.items() if zs}
    dead = bool(cred); death = min(min(z) for z in cred.values()) if dead else None
    rps = F.get("resident_pension", []); status = rps[0]["status"] if rps else None
    live = status in ("contributing", "receiving", "suspended")
    signs = [r["date"] for r in F.get("medical_claim", []) + F.get("tax_collection", []) + F.get("certification", []) if r["date"] <= D]
    signs += [ymfirst(r["month"]) for r in F.get("provident_fund", []) if ymfirst(r["month"]) <= D]
    for r in F.get("enterprise_roster", []) + F.get("employee_medical", []):
        if r["start_date"] <= D: signs.append(D if r["end_date"] is None or r["end_date"] >= D else r["end_date"])
    last = max(signs) if signs else None
    inpr = [r for r in F.get("prison", []) if (r["type"] or "prison") == "prison" and r["start_date"] <= D and (r["end_date"] is None or r["end_date"] > D)]
    anyact = lambda k: any(active(r, D) for r in F.get(k, []))
    listed = False
    if reg["status"] == "active" and reg["division"].startswith("222401") and a >= 16 and not anyact("student") \
       and not anyact("institution_pension") and not anyact("employee_pension") and not dead and not live:
        listed = True
        if inpr:
            rel = "" if any(r["end_date"] is None for r in inpr) else max(r["end_date"] for r in inpr).isoformat()
            L["unenrolled_in_prison"].append(f"{pid},{reg['division'][:9]},{rel}")
        else:
            fl = []
            if a >= 60: fl.append("age60")
            if anyact("employee_medical") or anyact("enterprise_roster") or any(within(ymfirst(r["month"]), 3) for r in F.get("provident_fund", [])): fl.append("employment_signal")
            if anyact("dibao") or anyact("tekun") or anyact("poor_household") or any(r["grade"] <= 2 and active(r, D) for r in F.get("disability", [])): fl.append("government_paid")
            if not within(last, 24): fl.append("possibly_absent")
            L["unenrolled_eligible"].append(f"{pid},{reg['division'][:9]},{reg['division']},{reg['household']},{';'.join(fl)}")
    if dead and status in ("receiving", "contributing"):
        srcs = sorted(cred); conf = "confirmed" if len(srcs) >= 2 or set(srcs) & {"police", "health", "court"} else "to_verify"
        if status == "contributing":
            L["deceased_contributors"].append(f"{pid},{death.isoformat()},{';'.join(srcs)},{conf}")
        else:
            dm = ym(death); pays = F.get("pension_payment", [])
            after = [p for p in pays if p["month"] > dm]
            dbasic = next((p["basic"] for p in pays if p["month"] == dm), None)
            if dbasic is None: dbasic = rps[0]["basic_pension"] or 0
            L["deceased_beneficiaries"].append(f"{pid},{death.isoformat()},{';'.join(srcs)},{conf},{len(set(p['month'] for p in after))},{m2(sum(p['total'] for p in after))},{m2(120000 + 10 * dbasic)}")
    if status == "receiving" and inpr:
        L["prison_suspension"].append(f"{pid},suspend,{ymadd(ym(max(r['start_date'] for r in inpr)), 1)}")
    elif status == "suspended" and not inpr:
        ends = [r["end_date"] for r in F.get("prison", []) if (r["type"] or "prison") == "prison" and r["end_date"] and r["end_date"] <= D]
        if ends: L["prison_suspension"].append(f"{pid},resume,{ymadd(ym(max(ends)), 1)}")
    if live and anyact("employee_pension"): L["double_enrolment"].append(f"{pid},employee")
    if live and anyact("institution_pension"): L["double_enrolment"].append(f"{pid},institution")
    if status == "contributing" and not dead:
        b60 = birthday(birth, 60)
        if D < b60 <= add_months(D, 3): L["approaching_benefit_age"].append(f"{pid},{b60.isoformat()}")
    if status == "receiving" and not dead and not within(last, 12):
        L["proof_of_life_due"].append(f"{pid},{last.isoformat() if last else ''}")
    tx = [r for r in F.get("tax_collection", []) if r["date"] <= D]
    w = [r for r in tx if within(r["date"], 12)]
    if w and not live: L["contribution_reconciliation"].append(f"{pid},collection_without_enrolment,,{m2(sum(r['amount'] for r in w))}")
    if status == "contributing" and not dead and not w: L["contribution_reconciliation"].append(f"{pid},enrolled_without_collection,,0.00")
    ys = collections.Counter()
    for r in tx:
        if r["type"] in ("collective", "donor"): ys[r["date"].year] += r["amount"]
    for y, s in ys.items():
        if s > 200000: L["contribution_reconciliation"].append(f"{pid},subsidy_above_tier,{y},{m2(s)}")
    if live or listed:
        t = reg["division"][:9]
        if t in towns: towns[t][0] += 1
L["township_staffing"] = [f"{t},{o},{max(1, -(-o // 6000))},{v}" for t, (o, v) in sorted(towns.items())]

ok = True
for name in ["unenrolled_eligible","unenrolled_in_prison","deceased_beneficiaries","deceased_contributors","prison_suspension",
             "double_enrolment","approaching_benefit_age","proof_of_life_due","contribution_reconciliation","township_staffing"]:
    truth = open(os.path.join(OUT, "truth", name + ".csv"), encoding="utf-8").read().split("\n")[1:-1]
    mine = L[name] if name == "township_staffing" else sorted(L[name])
    if truth != mine:
        ok = False
        a, b = set(truth), set(mine)
        print(f"DIFF {name}: truth {len(truth)} checker {len(mine)}; only truth {sorted(a-b)[:5]} only checker {sorted(b-a)[:5]}")
    else:
        print(f"ok   {name}: {len(truth)}")
for p in problems[:20]: print("PROBLEM", p)
print("problems", len(problems))
sys.exit(0 if ok and not problems else 1)
