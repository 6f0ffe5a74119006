#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the bench.jsonl of tools/testing/vm/bench-plan.sh and
bench-auth-plan.sh into a Markdown report with the targets of the benchmark
checked."""
import json
import os
import sys

# Slab caches that hold a session's own structures; everything else a
# session adds is key material (epoch keys, AEAD transforms, chain
# secrets). The pair is a kmalloc of its own (kmalloc-cg-128).
SESSION_CACHES = ('cpns_gen', 'kmalloc-cg-128')


def rate(r):
    rec = r['recv']
    secs = rec['seconds'] or float('nan')
    return rec['records'] / secs, rec['bytes'] / secs / 1e6


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    tp = {}
    mem = None
    auth = {}
    for r in rows:
        if r['case'] == 'memory':
            mem = r
        elif r['case'].startswith('auth-'):
            auth[r['case']] = r
        elif (r['case'], r['size']) in tp:
            # Another round of the same case: add it up.
            t = tp[(r['case'], r['size'])]
            for k in ('records', 'bytes', 'seconds'):
                t['recv'][k] += r['recv'][k]
            t['send']['sent'] += r['send']['sent']
            t['rounds'] += 1
        else:
            r['rounds'] = 1
            tp[(r['case'], r['size'])] = r
    if not tp and not mem:
        auth_report(auth)
        return
    print('## Throughput (receiver side, one VM run, TCG)\n')
    print('| path | payload | records/s | MB/s | sent by the sender | rounds |')
    print('|---|---:|---:|---:|---:|---:|')
    for (case, size), r in sorted(tp.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps, mbs = rate(r)
        print('| %s | %d | %.0f | %.2f | %d | %d |'
              % (case, size, rps, mbs, r['send']['sent'], r['rounds']))
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
    mems = memory_rows(path) or ([mem] if mem else [])
    for m in mems:
        per = m['slab_kib'] * 1024.0 / m['sessions']
        line = ('- memory, %s: %d idle sessions took %d KiB of slab (%.0f B each, keys '
                'included); installing them took %d s'
                % (m.get('suite', 'chacha20poly1305'), m['sessions'], m['slab_kib'], per,
                   m['install_seconds']))
        caches = m.get('bytes_per_session_by_cache')
        if caches:
            own = sum(v for k, v in caches.items() if k in SESSION_CACHES)
            rest = per - sum(caches.values())
            line += ('; session structures %.0f B (%s) + %.0f B outside these caches '
                     '(hash table) = %.0f B (target <= 512 B plus keys): %s'
                     % (own, ', '.join('%s %.0f' % (k, caches[k]) for k in SESSION_CACHES
                                       if k in caches), rest, own + rest,
                        'met' if own + rest <= 512 else 'NOT met'))
        print(line)
    small = [r for (c, s), r in tp.items() if c == 'cpns-aes256gcm-10-sessions']
    big = [r for (c, s), r in tp.items() if c.startswith('cpns-aes256gcm-') and
           c.endswith('-sessions') and c != 'cpns-aes256gcm-10-sessions']
    if small and big:
        ratio = rate(big[0])[0] / rate(small[0])[0]
        print('- lookup: 64 B records/s with %s vs 10 sessions: %.2f x (flat is 1.0)'
              % (big[0]['case'].split('-')[2], ratio))
    if auth:
        auth_report(auth)


def memory_rows(path):
    """The per-suite rows of bench-memory.jsonl beside bench.jsonl, if any."""
    p = os.path.join(os.path.dirname(path), 'bench-memory.jsonl')
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p) if l.strip()]


def auth_report(a):
    """Procedure B: cpnsd against many gateways next to the crypto alone."""
    c1, c2, s = a.get('auth-crypto'), a.get('auth-crypto-2'), a.get('auth-server')
    c1b = a.get('auth-crypto-after')
    print('\n## Procedure B authentications (one VM run, TCG)\n')
    print('| what | per second | initiator ms | responder ms | notes |')
    print('|---|---:|---:|---:|---|')
    if c1:
        print('| crypto only, both sides in one process | %.1f | %.2f | %.2f | no I/O, '
              'before the server run |'
              % (c1['per_s'], c1['initiator_us'] / 1e3, c1['responder_us'] / 1e3))
    if c1b:
        print('| the same after the server run | %.1f | %.2f | %.2f | |'
              % (c1b['per_s'], c1b['initiator_us'] / 1e3, c1b['responder_us'] / 1e3))
    if c2:
        print('| crypto only, two processes at once (each) | %.1f | %.2f | %.2f | '
              'both vCPUs busy, as in the server run |'
              % (c2['per_s'], c2['initiator_us'] / 1e3, c2['responder_us'] / 1e3))
    if s:
        per = s['server_cpu_seconds'] / s['completed'] * 1e3 if s['completed'] else 0
        sys_ = s['server_sys_cpu_seconds'] / s['completed'] * 1e3 if s['completed'] else 0
        print('| cpnsd, %d gateways over AF_CPNS | %.1f | | %.2f CPU (%.2f in the kernel) | '
              '%d completed in %.1f s, %d failed, %d retransmissions, latency %.0f ms '
              '(max %.0f) |'
              % (s['gateways'], s['per_s'], per, sys_, s['completed'], s['seconds'],
                 s['failed'], s['retransmissions'], s['latency_ms'], s['latency_max_ms']))
        print('\nConfiguration: %s.' % s.get('config', ''))
    # The target (the server adds at most 50 % to the crypto) is checked on
    # cpnsd's own CPU time per authentication against the responder's
    # crypto: the rates below compare the server run, which has both vCPUs
    # and the gateways' work on them, with crypto-only runs that have one
    # vCPU per process, and say little about the server alone.
    if c2 and s and s['completed']:
        per = s['server_cpu_seconds'] / s['completed'] * 1e6
        over = per / c2['responder_us'] - 1
        print('\n- cpnsd CPU per authentication / responder crypto (two-process figure): '
              '%.1f x: the server adds %.0f %% to its crypto (target <= 50 %%): %s'
              % (per / c2['responder_us'], 100 * over, 'met' if over <= 0.5 else 'NOT met'))
    if c1 and s and s['per_s']:
        crypto = (c1['per_s'] + c1b['per_s']) / 2 if c1b else c1['per_s']
        print('- authentications/s / crypto-only handshakes/s in one process%s: %.2f '
              '(the server run has two vCPUs, this reference one)'
              % (' (mean of before and after)' if c1b else '', s['per_s'] / crypto))
    if c2 and s and s['per_s']:
        print('- authentications/s / crypto-only handshakes/s of two processes at once '
              '(both vCPUs): %.2f' % (s['per_s'] / (2 * c2['per_s'])))


if __name__ == '__main__':
    main(sys.argv[1])
