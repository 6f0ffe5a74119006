#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the bench.jsonl of tools/testing/vm/bench-plan.sh and
bench-auth-plan.sh into a Markdown report with the targets of the benchmark
checked."""
import json
import os
import statistics
import sys

# Slab caches that hold a session's own structures; everything else a
# session adds is key material (epoch keys, AEAD transforms, chain
# secrets). The pair is a kmalloc of its own (kmalloc-cg-128).
SESSION_CACHES = ('cpns_gen', 'kmalloc-cg-128')


def rate(r):
    """Records/s and MB/s received on a path over the time it was sent on."""
    secs = r['seconds'] or float('nan')
    return r['records'] / secs, r['bytes'] / secs / 1e6


def main(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    tp = {}
    per_round = {}
    mem = None
    auth = {}
    for r in rows:
        if r['case'] == 'memory':
            mem = r
        elif r['case'].startswith('auth-'):
            auth.setdefault(r['case'], []).append(r)
        else:
            per_round.setdefault((r['case'], r['size']), {})[r['round']] = rate(r)
            if (r['case'], r['size']) in tp:
                # Another round of the same case: add it up.
                t = tp[(r['case'], r['size'])]
                for k in ('records', 'bytes', 'seconds', 'sent'):
                    t[k] += r[k]
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
              % (case, size, rps, mbs, r['sent'], r['rounds']))
    print('\n## Targets\n')
    print('Each ratio compares the receiver rates of two paths in the same run, in which '
          'the sender took the paths in turns of 200 ms (the guest\'s speed follows the '
          'host\'s load, which moves within seconds): AF_CPNS with plain UDP, and again '
          'with WireGuard (rows .../wg), whose workers go on after its turn. The verdict '
          'is on the median of the rounds, every round is listed.\n')
    for suite in ('aes256gcm', 'chacha20poly1305'):
        target_line(per_round, 'cpns-%s/wg' % suite, 'wireguard', 1400, 1,
                    '1400 B, %s: %%s x WireGuard MB/s (target >= 1.0)' % suite, 1.0)
        target_line(per_round, 'cpns-' + suite, 'udp', 64, 0,
                    '64 B, %s: %%s x plain UDP records/s (target >= 0.6)' % suite, 0.6)
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
    lookup_line(per_round)
    if auth:
        auth_report(auth)


def round_ratios(per_round, case, ref, size, col):
    """The ratios of @case to @ref at @size (col 0: records/s, 1: MB/s), one
    per round that has both."""
    a, b = per_round.get((case, size)), per_round.get((ref, size))
    if not a or not b:
        return []
    return [a[n][col] / b[n][col] for n in sorted(a) if n in b and b[n][col]]


def target_line(per_round, case, ref, size, col, text, target):
    """One target: per-round ratios of @case to @ref at @size (col 0:
    records/s, 1: MB/s), judged on their median."""
    ratios = round_ratios(per_round, case, ref, size, col)
    if not ratios:
        return
    m = statistics.median(ratios)
    print('- ' + text % ('%.2f' % m) + ': %s (rounds: %s)'
          % ('met' if m >= target else 'NOT met', ', '.join('%.2f' % r for r in ratios)))


def lookup_line(per_round):
    """Lookup cost: 64 B records/s of the AES-256-GCM path in a namespace
    with all the idle sessions against one with 10, per round (the plan
    sends on the two in turns), judged on their median."""
    small = 'cpns-aes256gcm-10-sessions'
    big = sorted(c for c, s in per_round if s == 64 and c != small and
                 c.startswith('cpns-aes256gcm-') and c.endswith('-sessions'))
    if not big:
        return
    ratios = round_ratios(per_round, big[0], small, 64, 0)
    if not ratios:
        return
    print('- lookup: 64 B records/s with %s vs 10 sessions: %.2f x (flat is 1.0) '
          '(rounds: %s)' % (big[0].split('-')[2], statistics.median(ratios),
                            ', '.join('%.2f' % r for r in ratios)))


def memory_rows(path):
    """The per-suite rows of bench-memory.jsonl beside bench.jsonl, if any."""
    p = os.path.join(os.path.dirname(path), 'bench-memory.jsonl')
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p) if l.strip()]


def mean_row(rows, keys):
    """The first of @rows with @keys averaged over all of them."""
    if not rows:
        return None
    r = dict(rows[0])
    for k in keys:
        r[k] = sum(x[k] for x in rows) / len(rows)
    return r


def auth_report(a):
    """Procedure B: cpnsd against many gateways next to the crypto alone."""
    hs_keys = ('per_s', 'initiator_us', 'responder_us')
    c1 = mean_row(a.get('auth-crypto', []), hs_keys)
    c1b = mean_row(a.get('auth-crypto-after', []), hs_keys)
    c2s = a.get('auth-crypto-2', [])
    servers = a.get('auth-server', [])
    c2 = mean_row(c2s, hs_keys)
    print('\n## Procedure B authentications (one VM run, TCG)\n')
    print('| what | per second | initiator ms | responder ms | notes |')
    print('|---|---:|---:|---:|---|')
    if c1:
        print('| crypto only, both sides in one process | %.1f | %.2f | %.2f | no I/O, '
              'before the server runs |'
              % (c1['per_s'], c1['initiator_us'] / 1e3, c1['responder_us'] / 1e3))
    if c1b:
        print('| the same after the server runs | %.1f | %.2f | %.2f | |'
              % (c1b['per_s'], c1b['initiator_us'] / 1e3, c1b['responder_us'] / 1e3))
    for c in c2s:
        n = c.get('round', 1)
        print('| crypto only, two processes at once (each), %s | %.1f | %.2f | %.2f | '
              'both vCPUs busy, as in the server run |'
              % ('before round 1' if n == 0 else 'after round %d' % n, c['per_s'],
                 c['initiator_us'] / 1e3, c['responder_us'] / 1e3))
    for s in servers:
        # a round without a completed authentication has no cost per one
        n = s['completed'] or float('nan')
        per = s['server_cpu_seconds'] / n * 1e3
        sys_ = s['server_sys_cpu_seconds'] / n * 1e3
        print('| cpnsd, %d gateways over AF_CPNS, round %d | %.1f | | %.2f CPU (%.2f in the '
              'kernel) | %d completed in %.1f s, %d failed, %d retransmissions, latency '
              '%.0f ms (max %.0f) |'
              % (s['gateways'], s.get('round', 1), s['per_s'], per, sys_, s['completed'],
                 s['seconds'], s['failed'], s['retransmissions'], s['latency_ms'],
                 s['latency_max_ms']))
    if servers:
        print('\nConfiguration: %s.' % servers[0].get('config', ''))
    # The target (the server adds at most 50 % to the crypto) is checked on
    # cpnsd's own CPU time per authentication against the responder's
    # crypto of the two-process runs just before and just after it (their
    # mean: the guest's speed drifts with the host's load): the rates below
    # compare the server run, which has both vCPUs and the gateways' work
    # on them, with crypto-only runs that have one vCPU per process, and say
    # little about the server alone.
    by_round = {c.get('round', 1): c for c in c2s}
    ratios = []
    for s in servers:
        n = s.get('round', 1)
        refs = [by_round[k]['responder_us'] for k in (n - 1, n)
                if k in by_round and by_round[k]['responder_us']]
        if not refs:
            continue
        ratios.append(s['server_cpu_seconds'] / s['completed'] * 1e6 /
                      statistics.mean(refs) if s['completed'] else float('inf'))
    if ratios:
        m = statistics.median(ratios)
        print('\n- cpnsd CPU per authentication / responder crypto of the two-process '
              'runs before and after it: %.3f x: the server adds %.1f %% to its crypto '
              '(target <= 50 %%): %s (rounds: %s)'
              % (m, 100 * (m - 1), 'met' if m <= 1.5 else 'NOT met',
                 ', '.join('%.2f' % r for r in ratios)))
    srv = mean_row(servers, ('per_s',))
    if c1 and srv and srv['per_s']:
        crypto = (c1['per_s'] + c1b['per_s']) / 2 if c1b else c1['per_s']
        print('- authentications/s / crypto-only handshakes/s in one process%s: %.2f '
              '(the server runs have two vCPUs, this reference one)'
              % (' (mean of before and after)' if c1b else '', srv['per_s'] / crypto))
    if c2 and srv and srv['per_s']:
        print('- authentications/s / crypto-only handshakes/s of two processes at once '
              '(both vCPUs): %.2f' % (srv['per_s'] / (2 * c2['per_s'])))


if __name__ == '__main__':
    main(sys.argv[1])
