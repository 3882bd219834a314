#!/usr/bin/env python3
"""Makes the generated delivery harder for identity resolution (EVAL_PERTURB for tests/eval.sh).

Changes field values in place, never adds or removes a record, and changes equal rows alike
(a row's changes depend only on its content, so an injected duplicate stays a duplicate).
In cremation records without ID number, which only probabilistic linkage can link:
  30 % address cut after the village / community, 10 % an institution's address instead,
   5 % no address; independently 5 % age one year higher, 5 % no sex, 5 % the last
  character of the name replaced by another.
Usage: eval_harden.py DATA_DIR   (the civil_cremation files in DATA_DIR/extracts, any encoding
and delimiter the source's definition names)
"""
import codecs
import fnmatch
import gzip
import hashlib
import os
import random
import re
import sys

data = sys.argv[1]
stats = {}
def count(k):
    stats[k] = stats.get(k, 0) + 1

# the cremation source's definition says which files, encoding and delimiter
conf = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'connectors', 'agencies',
                         'civil_cremation.conf'), encoding='utf-8').read().split('[fields]')[0]
kv = dict(re.findall(r'^(\w+)\s*=\s*(.*?)\s*(?:#.*)?$', conf, re.M))
if kv.get('format', 'csv') != 'csv':
    sys.exit('eval_harden: civil_cremation is %s, not delimited text' % kv.get('format'))
globs = [g.strip().strip('"') for g in kv.get('files', '').split(',')]
enc = {'gbk': 'gbk', 'gb18030': 'gb18030'}.get(kv.get('encoding', 'utf-8').lower(), 'utf-8')
delim = kv.get('delimiter', '","').strip('"')
delim = codecs.decode(delim, 'unicode_escape') if delim.startswith('\\') else (delim or ',')

for name in sorted(os.listdir(data + '/extracts')):
    if not any(fnmatch.fnmatch(name, g) for g in globs):
        continue
    path = data + '/extracts/' + name
    opener = gzip.open if name.endswith('.gz') else open
    with opener(path, 'rb') as f:
        raw = f.read()
    crlf = b'\r\n' in raw[:4096]
    lines = raw.split(b'\r\n' if crlf else b'\n')
    tail = lines.pop() if lines and lines[-1] == b'' else None
    head = lines[0].decode(enc).split(delim)
    try:
        i_age, i_addr, i_sex = head.index('年龄'), head.index('生前住址'), head.index('性别')
        i_id, i_name = head.index('身份证号码'), head.index('逝者姓名')
    except ValueError:
        sys.exit('eval_harden: %s does not have the expected columns' % path)
    out = [lines[0]]
    for line in lines[1:]:
        try:
            r = line.decode(enc).split(delim)
        except UnicodeDecodeError:
            out.append(line)          # a malformed row stays as it is
            continue
        if len(r) != len(head) or r[i_id].strip() != '' or '"' in line.decode(enc):
            out.append(line)
            continue
        rnd = random.Random(hashlib.sha256(line).digest())
        u = rnd.random()
        if u < 0.30:
            m = re.match(r'(.*?(社区|村))', r[i_addr])
            if m:
                r[i_addr] = m.group(1)
                count('address cut at the village')
        elif u < 0.40:
            r[i_addr] = '延吉市公园街道延吉市老年公寓'
            count('institution address')
        elif u < 0.45:
            r[i_addr] = ''
            count('no address')
        v = rnd.random()
        if v < 0.05 and r[i_age].isdigit():
            r[i_age] = str(int(r[i_age]) + 1)
            count('age +1')
        elif v < 0.10:
            r[i_sex] = ''
            count('no sex')
        elif v < 0.15 and len(r[i_name]) >= 2:
            r[i_name] = r[i_name][:-1] + '一'
            count('name changed')
        out.append(delim.join(r).encode(enc))
    data_out = (b'\r\n' if crlf else b'\n').join(out) + ((b'\r\n' if crlf else b'\n') if tail is not None else b'')
    with opener(path, 'wb') as f:
        f.write(data_out)
print('eval_harden: ' + ', '.join('%s %d' % kv for kv in sorted(stats.items())))
