#!/usr/bin/env python3
"""Usage: cpu_ab.py BINARY_A BINARY_B [ROUNDS] [CONCURRENCIES, e.g. 1,16]   (root: cgroup v1 cpuacct)

CPU per new delivery (responder + runners + handlers, cgroup v1 cpuacct) and req/s,
binaries A and B alternated, nginx -> pixelhook fastcgi, wrk with post-unique.lua."""
import os, subprocess, sys, time, glob, signal, socket, re, statistics, tempfile
bins = sys.argv[1:3]; rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
conc = sys.argv[4].split(",") if len(sys.argv) > 4 else ["1", "16"]
dur = os.environ.get("DUR", "3")
HERE = os.path.dirname(os.path.abspath(__file__)); LUA = HERE + "/lua/post-unique.lua"; BODY = HERE + "/body.json"
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
res = {b: {c: [] for c in conc} for b in bins}
for r in range(rounds):
    for b in bins:
        d = tempfile.mkdtemp(prefix="cpuab."); os.makedirs(d + "/handlers"); os.symlink("/usr/bin/true", d + "/handlers/default")
        cg = f"/sys/fs/cgroup/cpuacct/cpuab{os.getpid()}"; os.makedirs(cg, exist_ok=True)
        env = dict(PATH="/usr/bin:/bin", PIXELHOOK_SPOOL=d + "/spool", PIXELHOOK_HANDLERS=d + "/handlers",
                   PIXELHOOK_PROJECT_IDS="664f1a2b3c4d5e6f7a8b9c0d", PIXELHOOK_CONFIG="")
        sock = d + "/r.sock"
        resp = subprocess.Popen(["sh", "-c", f'echo $$ > {cg}/cgroup.procs; exec "$0" "$@"', b, "fastcgi", "--listen", sock],
                                env=env, stdout=open(d + "/resp.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
        port = free_port()
        os.makedirs(d + "/nginx/logs")
        open(d + "/nginx.conf", "w").write(f"""user root; worker_processes 1; error_log {d}/nginx/err.log; pid {d}/nginx/pid;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {d}/nginx; fastcgi_temp_path {d}/nginx;
 upstream ph {{ server unix:{sock}; keepalive 8; }}
 server {{ listen 127.0.0.1:{port}; location /hook {{ include /etc/nginx/fastcgi_params; fastcgi_keep_conn on; fastcgi_pass ph; }} }} }}""")
        ng = subprocess.Popen(["nginx", "-g", "daemon off;", "-p", d + "/nginx/", "-c", d + "/nginx.conf"], start_new_session=True,
                              stderr=open(d + "/nginx.log", "w"))
        while not os.path.exists(sock): time.sleep(0.05)
        time.sleep(0.5)
        for c in conc:
            def usage(): return int(open(cg + "/cpuacct.usage").read())
            def drain():
                # Until only the responder is left: its supervisor and worker process (the
                # runners, the resident one included, and their handlers are the rest).
                responder = {str(resp.pid)} | set(open(f"/proc/{resp.pid}/task/{resp.pid}/children").read().split())
                t = time.time()
                while time.time() - t < 60:
                    procs = [p for p in open(cg + "/cgroup.procs").read().split() if p]
                    if set(procs) <= responder: return
                    time.sleep(0.05)
            drain(); u0 = usage()
            out = subprocess.run(["wrk", "-t1" if c == "1" else "-t2", "-c" + c, "-d" + dur + "s", "-s", LUA, f"http://127.0.0.1:{port}/hook", BODY],
                                 capture_output=True, text=True, env=dict(os.environ, BENCH_NONCE=str(int(time.time()*1000) % 2**31))).stdout
            drain(); u1 = usage()
            m = re.search(r"(\d+) requests in", out); n = int(m.group(1))
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            cpu_us = (u1 - u0) / 1000 / max(n, 1)
            res[b][c].append((rps, cpu_us))
            print(f"round {r} {os.path.basename(b)} c{c}: {rps:.0f} req/s, {cpu_us:.0f} us CPU/delivery (incl. drain), non2xx={non2xx.group(1) if non2xx else 0}", flush=True)
        os.killpg(ng.pid, signal.SIGTERM); os.killpg(resp.pid, signal.SIGTERM); ng.wait(); resp.wait()
        time.sleep(0.3)
        for p in open(cg + "/cgroup.procs").read().split(): os.kill(int(p), signal.SIGKILL)
        time.sleep(0.2); os.rmdir(cg)
        subprocess.run(["rm", "-rf", d]) if not os.environ.get("KEEP") else print(d)
for c in conc:
    for b in bins:
        v = res[b][c]
        print(f"c{c} {os.path.basename(b)}: median {statistics.median(x[0] for x in v):.0f} req/s, median {statistics.median(x[1] for x in v):.0f} us CPU per delivery")
