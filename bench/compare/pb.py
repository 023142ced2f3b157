#!/usr/bin/env python3
"""Helpers for bench/compare.sh: sample the memory of process groups, and turn the
results (JSON lines) into one markdown table followed by the target checks.

  pb.py rss --dur 8 --interval 0.5 --out F  front=tree:123 backend=children:456
  pb.py table results.jsonl

Group kinds: tree:PID[,PID..] (the processes and all their descendants),
proc:PID[,..] (just those), children:PID[,..] (descendants only); a PID may be
given as @FILE (the PIDs listed in FILE when the sample is taken).
RSS is the sum of VmRSS over the group (counts shared pages once per process);
PSS is the sum of Pss from smaps_rollup (shared pages split fairly).
For each group the maximum over the samples is kept.
"""
import json
import os
import statistics
import sys
import time


def ppid_map():
    kids = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat', 'rb') as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(b')') + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(pid, kids):
    out, stack = [], list(kids.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def mem_kib(pid):
    rss = pss = 0
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    rss = int(line.split()[1])
                    break
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    pss = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, pss


def group_pids(spec, kids):
    kind, _, pids = spec.partition(':')
    roots = []
    for p in pids.split(','):
        if p.startswith('@'):        # @FILE: the PIDs in FILE now (servers restarted between runs)
            try:
                with open(p[1:]) as f:
                    roots += [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                pass
        elif p:
            roots.append(int(p))
    out = set()
    for r in roots:
        if kind in ('tree', 'proc'):
            out.add(r)
        if kind in ('tree', 'children'):
            out.update(descendants(r, kids))
    return out


def cmd_rss(args):
    dur, interval, out, specs = 0.0, 0.5, None, {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == '--dur':
            dur = float(args[i + 1]); i += 2
        elif a == '--interval':
            interval = float(args[i + 1]); i += 2
        elif a == '--out':
            out = args[i + 1]; i += 2
        else:
            name, _, spec = a.partition('=')
            specs[name] = spec; i += 1
    best = {name: {'rss_kib': 0, 'pss_kib': 0, 'procs': 0} for name in list(specs) + ['total']}
    end = time.monotonic() + dur
    while True:
        kids = ppid_map()
        seen = set()
        cache = {}   # one reading per process per sample, shared by the groups and the total
        for name, spec in specs.items():
            pids = group_pids(spec, kids)
            seen |= pids
            mem = [cache.setdefault(p, mem_kib(p)) for p in pids]
            b = best[name]
            b['rss_kib'] = max(b['rss_kib'], sum(m[0] for m in mem))
            b['pss_kib'] = max(b['pss_kib'], sum(m[1] for m in mem))
            b['procs'] = max(b['procs'], len(pids))
        mem = [cache[p] for p in seen]
        b = best['total']
        b['rss_kib'] = max(b['rss_kib'], sum(m[0] for m in mem))
        b['pss_kib'] = max(b['pss_kib'], sum(m[1] for m in mem))
        b['procs'] = max(b['procs'], len(seen))
        if time.monotonic() + interval > end:
            break
        time.sleep(interval)
    text = json.dumps(best)
    if out:
        with open(out, 'w') as f:
            f.write(text + '\n')
    else:
        print(text)


def fmt_ms(us):
    if us is None:
        return 'n/a'
    ms = us / 1000.0
    return f'{ms:.3f}' if ms < 1 else (f'{ms:.2f}' if ms < 10 else f'{ms:.1f}')


def fmt_rps(v):
    return 'n/a' if v is None else (f'{v:,.0f}' if v >= 100 else f'{v:.1f}')


def fmt_mib(kib):
    return 'n/a' if not kib else f'{kib / 1024:.1f}'


def med(rows, key):
    vals = [r[key] for r in rows if key in r]
    return statistics.median(vals) if vals else None


def verdict(ok):
    return '**PASS**' if ok else '**FAIL**'


def cmd_table(args):
    meta, runs, rss, counts, order = {}, {}, {}, {}, []
    p1check = resp = None
    cgi_rss, pairs = {}, {}
    with open(args[0]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            k, t = r['kind'], r.get('target')
            if k == 'meta':
                if t not in meta:
                    order.append(t)
                meta[t] = r
            elif k == 'wrk':
                runs.setdefault((t, r['conc']), []).append(r)
            elif k == 'rss':   # one line per sampled run: keep the maxima
                for g, v in r.items():
                    if isinstance(v, dict):
                        cur = rss.setdefault(t, {}).setdefault(g, {})
                        for kk, x in v.items():
                            cur[kk] = max(cur.get(kk, 0), x)
            elif k == 'count':
                c = counts.setdefault(t, {'answered': 0, 'stored': 0, 'results': 0, 'done': 0,
                                          'drain_s': 0.0, 'runs': 0})
                for kk in ('answered', 'stored', 'results', 'done'):
                    c[kk] += r[kk]
                c['drain_s'] = max(c['drain_s'], r['drain_s'])
                c['capped'] = c.get('capped', 0) + r.get('capped', 0)
                c['runs'] += 1
            elif k == 'p1check':
                p1check = r
            elif k == 'responder_rss':
                resp = r
            elif k == 'cgi_rss':
                cgi_rss[r['name']] = r['kib']
            elif k == 'pair':
                pairs.setdefault((t, r['conc']), []).append(r)

    def rps(t, c):
        return med(runs.get((t, c), []), 'rps')

    def ok(t):
        return t in meta and meta[t]['status'] == 'ok' and runs.get((t, 16))

    cols = ['id', 'target', 'req/s c16', 'p50 c16 ms', 'p99 c16 ms', 'req/s c1', 'p50 c1 ms',
            'p99 c1 ms', 'errors', 'peak RSS MiB backend / total', 'floor', 'c16 ÷ floor',
            'c1 ÷ floor', 'handler runs / 200s', 'load1']
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for t in order:
        m = meta[t]
        if m['status'] != 'ok':
            lines.append(f"| {t} | {m['label']} | {m['status']} |" + ' |' * (len(cols) - 3))
            continue
        r16, r1 = runs.get((t, 16), []), runs.get((t, 1), [])
        non2xx = sum(r.get('non2xx', 0) for r in r16 + r1)
        errs = sum(r.get('errors', 0) for r in r16 + r1)
        err = '0' if not (non2xx or errs) else ' '.join(
            x for x in (f'non2xx:{non2xx}' if non2xx else '', f'socket:{errs}' if errs else '') if x)
        s = rss.get(t, {})
        g = lambda grp, kk: s.get(grp, {}).get(kk)
        fl = m.get('floor') or ''
        q16 = q1 = '—'
        if fl and fl != t:
            a, b = rps(t, 16), rps(fl, 16)
            q16 = f'{a / b:.2f}' if a and b else 'n/a'
            a, b = rps(t, 1), rps(fl, 1)
            q1 = f'{a / b:.2f}' if a and b else 'n/a'
        elif fl == t:
            q16 = q1 = '1.00'
        hr = m.get('handler', '—')
        if t in counts:
            c = counts[t]
            hr = f"{c['done']:,} / {c['answered']:,}"
        elif t == 'P1' and p1check:
            hr = (f"{p1check['finished'] - p1check['failed']:,} ok + {p1check['failed']:,} failed"
                  f" / {p1check['acked']:,} (check)")
        loads = [r['load1'] for r in r16 + r1 if 'load1' in r]
        load = f'{min(loads):.1f}–{max(loads):.1f}' if loads else 'n/a'
        lines.append(
            f"| {t} | {m['label']} | {fmt_rps(rps(t, 16))} | {fmt_ms(med(r16, 'p50_us'))} "
            f"| {fmt_ms(med(r16, 'p99_us'))} | {fmt_rps(rps(t, 1))} | {fmt_ms(med(r1, 'p50_us'))} "
            f"| {fmt_ms(med(r1, 'p99_us'))} | {err} "
            f"| {fmt_mib(g('backend', 'rss_kib'))} / {fmt_mib(g('total', 'rss_kib'))}"
            + (f" (backend PSS {fmt_mib(g('backend', 'pss_kib'))}, {g('backend', 'procs')} procs) "
               if (g('backend', 'procs') or 0) > 4 else ' ')
            + f"| {fl or '—'} | {q16} | {q1} | {hr} | {load} |")
    n16 = max((len(v) for kk, v in runs.items() if kk[1] == 16), default=0)
    n1 = max((len(v) for kk, v in runs.items() if kk[1] == 1), default=0)
    lines += ['', f'Medians of {n16} run(s) at -t2 -c16 and {n1} at -t1 -c1, each figure on its own. '
              '÷ floor: the row\'s req/s divided by its floor\'s (FastCGI and direct-HTTP rows: F1; '
              'durable/exec rows: F1n; D0 and F1s, the ceilings: themselves; CGI rows: the C CGI floor under the same server, C2 or C3). '
              'Peak RSS: sum of VmRSS over the target\'s processes, sampled every 0.5 s during the c16 '
              'runs (backend: the receiver with its children, e.g. pixelhook\'s handler runners under the FastCGI '
              'responder; total: with nginx/lighttpd; n/a: only short-lived processes; with more than 4 '
              'backend processes their PSS, shared pages split, is given too). '
              'handler runs / 200s: handler results with state "done" found in the spool after the '
              'handlers drained, over answers with status 200 (measured runs only); "in-line": the '
              'handler runs in the request\'s own process before the next request. load1: the 1-minute load '
              'average at the start of the row\'s runs (min–max); on 2 cores, above ~2 means other work '
              'competed with the bench.']

    # ------------------------------------------------------------ target checks
    out = ['', '### Target checks (this run)', '']

    def ratio_line(name, t, fl, target=None):
        parts = []
        for c in (16, 1):
            a, b = rps(t, c), rps(fl, c)
            if a and b:
                q = a / b
                parts.append(f'c{c}: {fmt_rps(a)} ÷ {fmt_rps(b)} req/s = {q:.2f}'
                             + (f' {verdict(q >= target)}' if target else ''))
            else:
                parts.append(f'c{c}: n/a')
        return f'- {name}: ' + '; '.join(parts)

    def paired_line(name, t, concs, judge, time_per_request=False):
        """The paired check of t (see compare.sh, PAIRED CHECKS): the median of per-pair ratios."""
        parts = []
        for c in concs:
            ps = pairs.get((t, c), [])
            if not ps:
                continue
            qs = sorted((p['floor_rps'] / p['row_rps']) if time_per_request else (p['row_rps'] / p['floor_rps'])
                        for p in ps if p['floor_rps'] > 0 and p['row_rps'] > 0)
            if not qs:
                continue
            q = statistics.median(qs)
            unit = '×' if time_per_request else ''
            parts.append(f'c{c}: median {q:.2f}{unit} of {len(qs)} pairs (range {qs[0]:.2f}–{qs[-1]:.2f})'
                         + (f' {verdict(judge(q))}' if judge else ''))
        return f'- {name}, paired: ' + '; '.join(parts) if parts else None

    if ok('X1') and ok('F1'):
        out.append(ratio_line('pixelhook FastCGI dup (X1) ÷ C libfcgi floor (F1), target ≥ 0.80',
                              'X1', 'F1', 0.80))
        paired = paired_line('pixelhook FastCGI dup (X1) ÷ C libfcgi floor (F1), target ≥ 0.80', 'X1', (16, 1),
                             lambda q: q >= 0.80)
        if paired:
            out.append(paired)
    else:
        out.append('- pixelhook FastCGI dup vs C libfcgi floor: n/a (X1 or F1 not measured)')
    if ok('X1n'):
        if ok('P1'):
            out.append(ratio_line('pixelhook FastCGI new delivery (X1n) ÷ adnanh/webhook (P1)', 'X1n', 'P1'))
        else:
            out.append('- pixelhook FastCGI new delivery vs webhook: n/a (P1 not measured)')
        peers = [p for p in ('P2x', 'P2gx', 'P4x') if ok(p)]
        if peers:
            best = max(peers, key=lambda p: rps(p, 16) or 0)
            out.append(ratio_line(f'pixelhook FastCGI new delivery (X1n) ÷ best other peer durable/exec '
                                  f'row ({best}: {meta[best]["label"]})', 'X1n', best))
        else:
            out.append('- pixelhook FastCGI new delivery vs other peers: n/a (P2x/P2gx/P4x not measured)')
        if ok('F1n'):
            out.append(ratio_line('pixelhook FastCGI new delivery (X1n) ÷ C new-delivery floor (F1n)',
                                  'X1n', 'F1n'))
        def against_ceiling(ceiling, label, above, below):
            """X1n and webhook, each divided by a ceiling of receivers that store before answering."""
            if not ok(ceiling):
                return
            out.append(ratio_line(f'pixelhook FastCGI new delivery (X1n) ÷ {label}', 'X1n', ceiling))
            if ok('P1') and rps('P1', 16) and rps(ceiling, 16):
                q = rps('P1', 16) / rps(ceiling, 16)
                out.append(f'- adnanh/webhook (P1) ÷ {label.split(" (")[0]} ({ceiling}), c16: {q:.2f} — '
                           + (above if q > 1 else below))

        against_ceiling('D0', 'the disk\'s durable ceiling (D0, stores/s with no HTTP and no handler)',
                        'webhook answers faster than this disk can store durably, so no receiver that stores '
                        'before it answers (SPEC) can be ahead of it on this machine',
                        'the disk is not what keeps pixelhook behind webhook here')
        against_ceiling('F1s', 'the durable-receiver ceiling (F1s: C, 16 procs, store and answer, no handler)',
                        'webhook answers faster than a C receiver that stores before it answers and runs no '
                        'handler at all, so the "ahead of webhook" target is out of reach for any receiver that '
                        'keeps SPEC §9 on this machine',
                        'a durable receiver can answer as fast as webhook here')
    else:
        out.append('- pixelhook FastCGI new delivery: n/a (X1n not measured)')
    if ok('X3') and ok('C3'):
        parts = []
        for c in (1, 16):
            a, b = rps('X3', c), rps('C3', c)
            if a and b:
                q = b / a
                parts.append(f'c{c}: {1000 / a:.2f} ms ÷ {1000 / b:.2f} ms = {q:.2f}×'
                             + (f' {verdict(q <= 1.5)}' if c == 1 else ' (2 cores busy; for information)'))
        out.append('- pixelhook lighttpd-CGI dup (X3) time per request ÷ C CGI floor (C3), target ≤ 1.5× '
                   '(c1 is the verdict: one request at a time): ' + '; '.join(parts))
        paired = paired_line('pixelhook lighttpd-CGI dup (X3) time per request ÷ C CGI floor (C3), target ≤ 1.5×',
                             'X3', (1, 16), None, time_per_request=True)
        if paired:
            # c1 is the verdict, as above; c16 is for information.
            ps = sorted(p['floor_rps'] / p['row_rps'] for p in pairs.get(('X3', 1), []) if p['row_rps'] > 0)
            out.append(paired + (f' — c1 {verdict(statistics.median(ps) <= 1.5)}' if ps else ''))
    else:
        out.append('- pixelhook lighttpd-CGI dup vs C CGI floor: n/a (X3 or C3 not measured)')
    if ok('X2') and ok('C2'):
        a, b = rps('X2', 1), rps('C2', 1)
        if a and b:
            out.append(f'- (for information) pixelhook nginx+fcgiwrap CGI dup (X2) time per request ÷ C CGI '
                       f'floor (C2), c1: {b / a:.2f}×')
    if resp:
        mb = resp['after_kib'] * 1024 / 1e6
        out.append(f"- pixelhook FastCGI responder RSS after {resp['requests']:,} requests (X1 + X1n runs and "
                   f"a top-up on the dup path), target < 16 MB: {resp['after_kib'] / 1024:.1f} MiB = {mb:.1f} MB "
                   f"{verdict(mb < 16 and resp['requests'] >= 100000) if resp['requests'] >= 100000 else '(fewer than 100,000 requests: no verdict)'}"
                   f" (after its first request: {resp['before_kib'] / 1024:.1f} MiB; VmHWM {resp['hwm_kib'] / 1024:.1f} MiB)")
    else:
        out.append('- pixelhook responder RSS: n/a (X1 not measured)')
    if cgi_rss:
        ph = {k: v for k, v in cgi_rss.items() if k.startswith('pixelhook')}
        worst = max(ph.values()) if ph else None
        desc = ', '.join(f'{k} {v / 1024:.1f} MiB' for k, v in cgi_rss.items())
        if worst:
            mb = worst * 1024 / 1e6
            out.append(f'- CGI process peak RSS (`/usr/bin/time -f %M`, one process with the CGI environment, '
                       f'median of runs), target < 8 MB: worst pixelhook {mb:.1f} MB {verdict(mb < 8)} ({desc})')
    else:
        out.append('- CGI process peak RSS: n/a')
    for t in ('X1n', 'X2n', 'X3n'):
        if t in counts:
            c = counts[t]
            missing = c['answered'] - c['done']
            out.append(f"- {t} handler runs: {c['answered']:,} answered 200, {c['stored']:,} deliveries stored, "
                       f"{c['results']:,} handler results ({c['done']:,} done) after waiting up to "
                       f"{c['drain_s']:.1f} s per run for the handlers to drain"
                       + (f' — {missing:,} answered without a finished handler' if missing > 0 else
                          ' — every 200 got its handler run')
                       + (f" ({c['capped']} run(s) still draining at DRAIN_MAX when counted)" if c.get('capped') else ''))
    if p1check:
        c = p1check
        out.append(f"- P1 check (webhook -verbose, one {c['burst']} burst at -c16, then {c['wait_s']} s for the "
                   f"backlog): {c['acked']:,} answered 200; {c['finished']:,} handler runs finished, "
                   f"{c['failed']:,} of them failed"
                   + (f" ({c['first_error']})" if c.get('first_error') else '')
                   + f"; {max(0, c['acked'] - c['finished']):,} never finished.")
    print('\n'.join(lines + out))


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in ('rss', 'table'):
        sys.exit(__doc__)
    {'rss': cmd_rss, 'table': cmd_table}[sys.argv[1]](sys.argv[2:])
