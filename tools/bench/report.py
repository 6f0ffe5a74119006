#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the bench.jsonl of tools/testing/vm/bench-plan.sh into a Markdown
report with the targets of the benchmark checked."""
import json
import sys


def rate(r):
    rec = r['recv']
    secs = rec['seconds'] or float('nan')
    return rec['records'] / secs, rec['bytes'] / secs / 1e6


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    tp = {}
    mem = None
    for r in rows:
        if r['case'] == 'memory':
            mem = r
        else:
            tp[(r['case'], r['size'])] = r
    print('## Throughput (receiver side, one VM run, TCG)\n')
    print('| path | payload | records/s | MB/s | sent by the sender |')
    print('|---|---:|---:|---:|---:|')
    for (case, size), r in sorted(tp.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps, mbs = rate(r)
        print('| %s | %d | %.0f | %.2f | %d |' % (case, size, rps, mbs, r['send']['sent']))
    print('\n## Targets\n')
    for suite in ('aes256gcm', 'chacha20poly1305'):
        c = tp.get(('cpns-' + suite, 1400))
        w = tp.get(('wireguard', 1400))
        if c and w:
            ratio = rate(c)[1] / rate(w)[1]
            print('- 1400 B, %s: %.2f x WireGuard MB/s (target >= 1.0): %s'
                  % (suite, ratio, 'met' if ratio >= 1.0 else 'NOT met'))
        c = tp.get(('cpns-' + suite, 64))
        u = tp.get(('udp', 64))
        if c and u:
            ratio = rate(c)[0] / rate(u)[0]
            print('- 64 B, %s: %.2f x plain UDP records/s (target >= 0.6): %s'
                  % (suite, ratio, 'met' if ratio >= 0.6 else 'NOT met'))
    if mem:
        per = mem['slab_kib'] * 1024.0 / mem['sessions']
        print('- memory: %d sessions took %d KiB of slab (%.0f B each, keys included); '
              'MemAvailable fell by %d KiB; installing them took %d s'
              % (mem['sessions'], mem['slab_kib'], per, mem['avail_kib'], mem['install_seconds']))
    small = [r for (c, s), r in tp.items() if c == 'cpns-aes256gcm-10-sessions']
    big = [r for (c, s), r in tp.items() if c.startswith('cpns-aes256gcm-') and
           c.endswith('-sessions') and c != 'cpns-aes256gcm-10-sessions']
    if small and big:
        ratio = rate(big[0])[0] / rate(small[0])[0]
        print('- lookup: 64 B records/s with %s vs 10 sessions: %.2f x (flat is 1.0)'
              % (big[0]['case'].split('-')[2], ratio))


if __name__ == '__main__':
    main(sys.argv[1])
