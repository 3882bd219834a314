#!/usr/bin/env python3
"""Scores identity resolution against the generator's truth (tests/eval.sh, tests/sections).

    eval_score.py DATA OUT CONNECTORS RUNLOG REVIEWS T0 T1

DATA is synth's output (extracts/, truth/ with hidden_links.csv), OUT the run's lists (links.csv,
rejects.csv, files.csv, deceased_beneficiaries.csv), CONNECTORS the agency definitions the run
read, RUNLOG its log (event=linkage), REVIEWS the rows of canbao.match_review ("?" if unknown),
T0 and T1 the run's start and end (epoch seconds).  Prints precision and recall of linkage for
records with an ID (usable or repairable) and without (a record of a person not on the register,
an empty id_number in hidden_links.csv, must be linked to nobody: linking it counts against
precision), the deceased-beneficiary list against the truth, and the linkage step's work.
Exit status 0 when the issue's targets hold: with ID precision >= 99.9 % and recall >= 99.5 %;
without ID recall >= 95 % at precision >= 99 %; no living person on the confirmed list.
"""
import codecs, csv, fnmatch, glob, gzip, json, os, re, sys
data, out, conn, runlog, reviews, t0, t1 = sys.argv[1:8]
def rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))

hidden = {(r['file'], int(r['record'])): r['id_number'] for r in rows(f'{data}/truth/hidden_links.csv')}
links = {(r['file'], int(r['record'])): r for r in rows(f'{out}/links.csv')}
rejected = {(r['file'], int(r['record'])): r['reason'] for r in rows(f'{out}/rejects.csv')}
files = {r['file']: r for r in rows(f'{out}/files.csv')}
counts = {r['file']: r for r in rows(f'{data}/truth/counts.csv')}

# the raw records of the line-based files (CSV, text, fixed width, JSON Lines; gzip or not),
# to tell records without ID and the injected duplicates (byte-identical copies)
confs = {}
for conf in glob.glob(f'{conn}/*.conf'):
    text = open(conf, encoding='utf-8').read()
    head = text.split('[fields]')[0]
    kv = dict(re.findall(r'^(\w+)\s*=\s*(.*?)\s*(?:#.*)?$', head, re.M))
    body = text.split('[fields]', 1)[1] if '[fields]' in text else ''
    m = re.search(r'^\s*id_number\s*=\s*([^|#]+)', body, re.M)
    kv['id_col'] = m.group(1).strip() if m else None
    confs[os.path.basename(conf)[:-5]] = kv
def conf_of_file(fname):
    for src, kv in confs.items():
        globs = [g.strip().strip('"') for g in kv.get('files', '').split(',')]
        if any(fnmatch.fnmatch(fname, g) for g in globs):
            return kv
    return None
def raw_records(fname):
    kv = conf_of_file(fname)
    path = f'{data}/extracts/{fname}'
    if kv is None or kv.get('format', 'csv') not in ('csv', 'jsonl', 'fixed') or not os.path.exists(path):
        return None, None
    f = gzip.open(path, 'rb') if fname.endswith('.gz') else open(path, 'rb')
    lines = f.read().split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    lines = [l.rstrip(b'\r') for l in lines]
    if kv.get('format', 'csv') == 'csv' and kv.get('header', 'yes') != 'no':
        lines = lines[1:]
    return kv, lines
def written_id(kv, raw, head_cols):
    enc = {'gbk': 'gbk', 'gb18030': 'gb18030'}.get(kv.get('encoding', 'utf-8').lower(), 'utf-8')
    text = raw.decode(enc, 'replace')
    col = kv['id_col']
    if kv.get('format', 'csv') == 'jsonl':
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        for part in col.split('/'):   # a key path such as 患者/证件号码
            obj = obj.get(part) if isinstance(obj, dict) else None
        return None if obj is None else str(obj)
    if kv.get('format') == 'fixed':
        a, b = (int(x) for x in col.split('-'))
        return text[a - 1:b].strip()
    d = kv.get('delimiter', '","').strip('"')
    d = codecs.decode(d, 'unicode_escape') if d.startswith('\\') else (d or ',')
    cells = next(csv.reader([text], delimiter=d))
    if head_cols is None or col not in head_cols:
        return None
    k = head_cols.index(col)
    return cells[k] if k < len(cells) else None
dups, noid_keys, unverified = set(), [], set()
for fname in sorted({f for f, _ in hidden}):
    kv, recs = raw_records(fname)
    keys = [k for k in hidden if k[0] == fname]
    if recs is None:
        unverified.update(keys)
        continue
    head_cols = None
    if kv.get('format', 'csv') == 'csv':
        f = gzip.open(f'{data}/extracts/{fname}', 'rb') if fname.endswith('.gz') else open(f'{data}/extracts/{fname}', 'rb')
        enc = {'gbk': 'gbk', 'gb18030': 'gb18030'}.get(kv.get('encoding', 'utf-8').lower(), 'utf-8-sig')
        d = kv.get('delimiter', '","').strip('"')
        d = codecs.decode(d, 'unicode_escape') if d.startswith('\\') else (d or ',')
        head_cols = [c.strip() for c in next(csv.reader([f.readline().decode(enc, 'replace').rstrip('\r\n')], delimiter=d))]
    seen = set()
    first = {}
    for i, raw in enumerate(recs, 1):
        if raw in first:
            dups.add((fname, i))
        else:
            first[raw] = i
    for k in keys:
        if k in dups:
            continue
        w = written_id(kv, recs[k[1] - 1], head_cols) if k[1] <= len(recs) else None
        if w is not None and w.strip() == '':
            noid_keys.append(k)
        elif w is None:
            unverified.add(k)
LINKAGE_REJECT = ('ambiguous ID number', 'no match')
malformed = {k for k in hidden if k in rejected and not rejected[k].startswith(LINKAGE_REJECT)}
noid_keys = [k for k in noid_keys if k not in malformed]
for k in hidden:   # formats not read here: links.csv says whether the ID was missing
    if k in unverified and k in links and links[k]['id_status'] == 'missing':
        noid_keys.append(k)
        unverified.discard(k)

# records evaluated: every record of every non-register file that is neither malformed nor a
# duplicate (the generator says how many of each it injected)
total_with_id = 0
for fname, f in files.items():
    if f['fact_kind'] == 'register' or fname not in counts:
        continue
    total_with_id += int(f['records_read']) - int(counts[fname]['duplicates']) - int(counts[fname]['malformed'])
total_with_id -= len(noid_keys)

LINKED = {'exact', 'repaired', 'probable', 'reviewed'}
def predicted(key, with_to_verify=False):
    l = links.get(key)
    if l is not None:
        ok = l['decision'] in LINKED or (with_to_verify and l['decision'] == 'to_verify')
        return l['id_number'] if ok else None
    if key in rejected:
        return None
    return 'AS_WRITTEN'

# with an ID: errors can only come from hidden records (a record not in hidden_links carries
# its true ID; it is wrong only if we changed it)
fp = fn = 0
noisy = noisy_ok = skipped = 0
noid_set = set(noid_keys)
for key, l in links.items():
    if key in hidden or l['decision'] not in LINKED:
        continue
    fp += 1   # a record with its true ID, linked to something else
for key, true_id in hidden.items():
    if key in noid_set:
        continue
    if key in malformed or key in dups:
        continue
    p = predicted(key)
    if p == 'AS_WRITTEN' and key in unverified:
        skipped += 1   # a duplicate, or linked as written: not tellable for this format
        continue
    noisy += 1
    if p == true_id:
        noisy_ok += 1
    elif p is None:
        fn += 1
    else:
        fp += 1; fn += 1
tp = total_with_id - fn
prec_a = tp / (tp + fp) if tp + fp else 1.0
rec_a = tp / total_with_id if total_with_id else 1.0

# records without ID of persons on the register (hidden_links names the person) and of persons
# who are not (an empty id_number: registered elsewhere, the right answer is no match)
strangers = [k for k in noid_keys if hidden[k] == '']
residents = [k for k in noid_keys if hidden[k] != '']
def noid_stats(with_tv):
    linked = ok = 0
    for key in residents:
        p = predicted(key, with_tv)
        if p is not None:
            linked += 1
            ok += p == hidden[key]
    wrong_strangers = sum(1 for key in strangers if predicted(key, with_tv) is not None)
    return ok, linked + wrong_strangers, len(residents), wrong_strangers
ok_b, linked_b, n_b, strangers_b = noid_stats(False)
ok_bt, linked_bt, _, strangers_bt = noid_stats(True)
prec_b = ok_b / linked_b if linked_b else 1.0
rec_b = ok_b / n_b if n_b else 1.0
missed = {}
for key in residents:
    l = links.get(key)
    d = l['decision'] if l else ('rejected' if key in rejected else 'as written')
    if predicted(key) != hidden[key]:
        d = d if predicted(key) is None else d + ' (wrong person)'
        missed[d] = missed.get(d, 0) + 1

dec = {}
for l in links.values():
    dec[l['decision']] = dec.get(l['decision'], 0) + 1

truth_dead = {r['id_number']: r for r in rows(f'{data}/truth/deceased_beneficiaries.csv')}
ours = rows(f'{out}/deceased_beneficiaries.csv')
ours_ids = {r['id_number'] for r in ours}
conf_false = [r['id_number'] for r in ours if r['confidence'] == 'confirmed' and r['id_number'] not in truth_dead]
tv_false = [r['id_number'] for r in ours if r['confidence'] != 'confirmed' and r['id_number'] not in truth_dead]
found = sum(1 for i in truth_dead if i in ours_ids)
conf_truth_conf = sum(1 for r in ours if r['confidence'] == 'confirmed' and r['id_number'] in truth_dead)

m = re.findall(r'event=linkage .*', open(runlog, encoding='utf-8').read())
step = m[-1] if m else ''
def field(name):
    g = re.search(name + r'=([0-9.]+)', step)
    return g.group(1) if g else '?'

print()
print('identity resolution on %s (noise as generated)' % data)
print('  records with an ID (usable or repairable): %d, of which %d written wrongly (typo, swap, full width)' % (total_with_id, noisy))
print('    (not counted: %d malformed and %d duplicate rows the generator also lists in hidden_links%s)'
      % (len(malformed), len(dups), ', %d in formats not read here' % skipped if skipped else ''))
print('    precision %.4f %%   recall %.4f %%   (wrongly written: %d of %d linked right, %.2f %%)'
      % (100 * prec_a, 100 * rec_a, noisy_ok, noisy, 100.0 * noisy_ok / noisy if noisy else 100))
print('  records without ID: %d of persons on the register, %d of persons who are not (must be linked to nobody)'
      % (n_b, len(strangers)))
print('    linked (probable): precision %.2f %%  recall %.2f %%   (%d linked, %d right; %d not on the register linked)'
      % (100 * prec_b, 100 * rec_b, linked_b, ok_b, strangers_b))
print('    with to_verify:    precision %.2f %%  recall %.2f %%   (%d linked, %d right; %d not on the register linked)'
      % (100.0 * ok_bt / linked_bt if linked_bt else 100, 100.0 * ok_bt / n_b if n_b else 100, linked_bt, ok_bt,
         strangers_bt))
if missed:
    print('    not linked right (probable): ' + ', '.join('%s %d' % kv for kv in sorted(missed.items())))
print('  decisions in links.csv: ' + ', '.join('%s %d' % kv for kv in sorted(dec.items())))
print('  rows put up for clerical review (canbao.match_review): %s' % reviews)
print('deceased beneficiaries: truth %d, found %d (recall %.2f %%); ours %d: confirmed %d (%d in truth), to verify %d'
      % (len(truth_dead), found, 100.0 * found / len(truth_dead) if truth_dead else 100, len(ours),
         sum(1 for r in ours if r['confidence'] == 'confirmed'), conf_truth_conf,
         sum(1 for r in ours if r['confidence'] != 'confirmed')))
print('  living persons on the confirmed list: %d%s' % (len(conf_false), (' ' + ' '.join(conf_false[:5])) if conf_false else ''))
print('  living persons on the to-verify list: %d' % len(tv_false))
print('linkage step: candidate pairs %s, training records %s, %s s (%s s CPU; whole run %.1f s); '
      'keys refined %s, blocks over the cap skipped %s (%s pairs), records on a fallback block %s'
      % (field('candidate_pairs'), field('training_records'), field('seconds'), field('cpu_seconds'),
         float(t1) - float(t0), field('refined_keys'), field('skipped_blocks'), field('skipped_pairs'),
         field('fallback_records')))
good = prec_a >= 0.999 and rec_a >= 0.995 and rec_b >= 0.95 and prec_b >= 0.99 and not conf_false
print('targets (with ID p>=99.9%% r>=99.5%%; without ID r>=95%% at p>=99%%; no living person confirmed): %s'
      % ('met' if good else 'NOT met'))
sys.exit(0 if good else 1)
