#!/usr/bin/env python3
"""idhub benchmark: builds the release binary, starts it on a fresh SQLite file
and a fresh PostgreSQL database, seeds a trusted service and users, and drives
each endpoint with wrk (Debian package, installed if missing) at 1 and 32
connections. Prints one markdown table; any non-2xx answer fails the run.

    bench/run.py                 # full run (8 s per case after a 1 s warm-up)
    bench/run.py --quick         # CI smoke: 1 s per case, 32 connections only
    bench/run.py --binary PATH   # measure that idhub binary instead of building one
    bench/run.py --seed 100000,1000000,3000000   # on big tables (bench/seed.py)

The case "introspection (100k tokens)" first obtains 100,000 distinct live
access tokens (client_credentials, unmeasured) and then introspects a different
one on every request, cycling through all of them; any answer that is not
"active":true fails the run. With --quick it uses 2,000 tokens instead, so the
CI smoke run stays short (the row then reads "introspection (2k tokens)";
--only selects it by either name). The token file is removed afterwards.

The case "permission cache (50 groups, 200 project roles)" seeds the model
bench/authz.py describes, then asks for the bench user's permissions; after
it, a second instance on the same database measures how soon it shows a
membership change made through the first.
"""
import argparse
import base64
import concurrent.futures
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import authz

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "idhub")
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/test")
ADMIN_PASSWORD = "bench-admin-password"


def sh(*args, env=None, check=True):
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def ensure_tools(build=True):
    if shutil.which("wrk") is None:
        print("installing wrk (Debian package)...", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    if build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url, extra_env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IDHUB_")}
        self.env.update({
            "DATABASE_URL": database_url,
            "IDHUB_LISTEN": f"127.0.0.1:{self.port}",
            "IDHUB_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "IDHUB_LOG": "warn",
            # Codes are made ahead of the exchange case; give them time to be used.
            "IDHUB_AUTHORIZATION_CODE_TTL_SECS": "900",
        })
        self.env.update(extra_env or {})

    def cli(self, *args):
        return sh(BINARY, *args, env=self.env)

    def start(self):
        started = time.monotonic()
        self.process = subprocess.Popen([BINARY], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health/ready", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if self.process.poll() is not None:
                    sys.exit("the server exited during start-up")
                time.sleep(0.005)
        self.ready_ms = (time.monotonic() - started) * 1000
        return self

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self):
        """Resident MB in all, and of it the process's own (anonymous) memory.
        The rest is the binary's file pages: shared, clean, and on kernels
        that cache files in large folios mapped in whole (18 MB of machine
        code, ~15-19 MB resident from the start), so they say little about
        what idhub allocates."""
        found = {}
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "RssAnon"):
                    found[key] = int(line.split()[1]) / 1024
        return found.get("VmRSS", 0.0), found.get("RssAnon", 0.0)

    def measure(self, url, script, connections, duration):
        """One wrk run; returns its result, the server's CPU % and its peak RSS
        sampled during this run (not since start)."""
        peak, done = list(self.rss_mb()), threading.Event()

        def sample():
            while not done.wait(0.05):
                total, anonymous = self.rss_mb()
                peak[0], peak[1] = max(peak[0], total), max(peak[1], anonymous)

        sampler = threading.Thread(target=sample)
        sampler.start()
        cpu_before, wall_before = self.cpu_seconds(), time.monotonic()
        result = run_wrk(url, script, connections, duration)
        cpu = (self.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before) * 100
        done.set()
        sampler.join()
        return result, cpu, tuple(peak)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def post_form(url, form, basic=None):
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if basic:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode())
    with urllib.request.urlopen(request) as r:
        return json.load(r)


def browser_session(base_url, login, password):
    """Signs in through the HTML form like a browser; returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"login": login, "password": password, "csrf_token": csrf}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    no_redirect = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))
    try:
        no_redirect.open(base_url + "/login", data)
    except urllib.error.HTTPError as answer:
        if answer.code != 303:
            raise
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def lua_string(text):
    return json.dumps(text)


def lua_static(method, path, headers, body=None):
    lines = [f"wrk.method = {lua_string(method)}", f"wrk.path = {lua_string(path)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    return "\n".join(lines) + "\n"


def lua_refresh(path, basic_header, tokens_per_thread):
    """Each wrk thread owns its own refresh tokens and swaps in the rotated one
    from every answer, so no token is ever presented twice."""
    chunks = ",".join("{" + ",".join(lua_string(t) for t in chunk) + "}" for chunk in tokens_per_thread)
    return f"""
local pools = {{{chunks}}}
local next_pool = 0
function setup(thread)
  next_pool = next_pool + 1
  thread:set("pool_index", next_pool)
end
function init(args)
  queue = {{}}
  for _, t in ipairs(pools[pool_index]) do table.insert(queue, t) end
end
function request()
  local token = table.remove(queue, 1)
  return wrk.format("POST", {lua_string(path)}, {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = {lua_string(basic_header)}}}, "grant_type=refresh_token&refresh_token=" .. token)
end
function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then table.insert(queue, token) end
end
"""


def lua_collect_codes(path, cookie, directory):
    """GETs /auth with a signed-in session; every thread appends the codes of
    the redirects it gets to its own file."""
    return f"""
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  out = io.open({lua_string(directory)} .. "/codes-" .. id .. ".txt", "a")
end
function request()
  return wrk.format("GET", {lua_string(path)}, {{["Cookie"] = {lua_string(cookie)}}})
end
function response(status, headers, body)
  local location = headers["Location"] or headers["location"]
  if location then
    local code = location:match("[?&]code=([^&]+)")
    if code then out:write(code, "\\n") out:flush() end
  end
end
"""


def lua_one_each(values_per_thread):
    """Lua that gives each wrk thread its own list of single-use values:
    next_value() returns the next unused one, or "exhausted" (which the server
    refuses, so running out fails the run)."""
    chunks = ",".join("{" + ",".join(lua_string(v) for v in chunk) + "}" for chunk in values_per_thread)
    return f"""
local pools = {{{chunks}}}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("pool_index", counter)
end
function init(args)
  values = pools[pool_index]
  used = 0
end
function next_value()
  used = used + 1
  return values[used] or "exhausted"
end
"""


def lua_exchange_codes(path, basic, redirect_uri, codes_per_thread):
    return lua_one_each(codes_per_thread) + f"""
function request()
  return wrk.format("POST", {lua_string(path)}, {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = {lua_string(basic)}}},
    "grant_type=authorization_code&redirect_uri=" .. {lua_string(urllib.parse.quote(redirect_uri, safe=""))} .. "&code=" .. next_value())
end
"""


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dpop_proofs(url, count):
    """`count` DPoP proofs (RFC 9449) for POST `url`, each with its own jti,
    signed ES256 by one fresh key (the Python `cryptography` package)."""
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "cryptography"], check=True)
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256",
           "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}
    header = b64url(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).encode())
    now, salt = int(time.time()), os.urandom(6).hex()
    proofs = []
    for n in range(count):
        claims = b64url(json.dumps({"jti": f"{salt}-{n}", "htm": "POST", "htu": url, "iat": now}).encode())
        signed = f"{header}.{claims}"
        r, s = decode_dss_signature(key.sign(signed.encode(), ec.ECDSA(hashes.SHA256())))
        proofs.append(f"{signed}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}")
    return proofs


def lua_with_proofs(path, headers, body, proofs_per_thread):
    """A static POST, each request with the next unused DPoP proof of its thread."""
    header_lines = "".join(f"[{lua_string(k)}] = {lua_string(v)}, " for k, v in headers.items())
    return lua_one_each(proofs_per_thread) + f"""
function request()
  return wrk.format("POST", {lua_string(path)}, {{{header_lines}["DPoP"] = next_value()}}, {lua_string(body)})
end
"""


def many_tokens(base_url, client_id, secret, count, workers=12):
    """`count` distinct client_credentials access tokens, fetched over
    keep-alive connections from several threads."""
    host, port = urllib.parse.urlparse(base_url).netloc.split(":")
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": client_id})
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": basic_header(client_id, secret)}

    def fetch(n):
        connection, tokens = http.client.HTTPConnection(host, int(port), timeout=30), []
        for _ in range(n):
            connection.request("POST", "/api/rest/oauth2/token", body, headers)
            answer = connection.getresponse()
            data = answer.read()
            if answer.status != 200:
                sys.exit(f"seeding tokens failed: {answer.status} {data[:200]!r}")
            tokens.append(json.loads(data)["access_token"])
        connection.close()
        return tokens

    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return [t for chunk in pool.map(fetch, shares) for t in chunk]


def lua_introspect_many(path, basic, token_file, threads):
    """Each wrk thread reads its share of the tokens from a file and
    introspects them in turn; answers without "active":true are counted and
    reported, and fail the run."""
    return f"""
local threads = {{}}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  tokens = {{}}
  local line_number = 0
  for line in io.lines({lua_string(token_file)}) do
    if line_number % {threads} == id - 1 then
      table.insert(tokens, line)
    end
    line_number = line_number + 1
  end
  next_token = 0
  inactive = 0
end
function request()
  next_token = next_token % #tokens + 1
  return wrk.format("POST", {lua_string(path)}, {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = {lua_string(basic)}}}, "token=" .. tokens[next_token])
end
function response(status, headers, body)
  if not body:find('"active":true', 1, true) then
    inactive = inactive + 1
  end
end
function done(summary, latency, requests)
  local sum = 0
  for _, thread in ipairs(threads) do sum = sum + thread:get("inactive") end
  io.write("inactive answers: " .. sum .. "\\n")
end
"""


def run_wrk(url, script, connections, duration):
    threads = 1 if connections == 1 else 2
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        result = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", path, url],
                                capture_output=True, text=True)
        out = result.stdout + result.stderr
    finally:
        os.unlink(path)
    return parse_wrk(out)


def to_ms(text):
    found = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if found is None:
        return float("nan")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out):
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        sys.exit(f"wrk failed:\n{out}")
    rps = float(found.group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    if p50 != p50 or p99 != p99:
        print(f"unreadable latency in wrk output:\n{out}", file=sys.stderr)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket:
        errors += sum(int(g) for g in socket.groups())
    inactive = re.search(r"inactive answers: (\d+)", out)
    if inactive:
        errors += int(inactive.group(1))
    if errors:
        print(f"errors in this run; wrk said:\n{out}", file=sys.stderr)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


def basic_header(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


CALLBACK = "http://127.0.0.1/cb"


def seed(server):
    server.cli("migrate")
    svc = json.loads(server.cli("services", "add", "--name", "bench", "--trusted", "--redirect-uri", CALLBACK,
                                "--token-exchange", "--json"))
    server.cli("users", "add", "--login", "bench", "--password", "bench-password", "--email", "bench@example.com", "--json")
    admin_token = server.cli("tokens", "create", "--user", "admin", "--name", "bench")
    return svc["id"], svc["secret"], admin_token


duration_of_run = 8
many_token_count = 100_000
PERMISSION_CACHE = "permission cache (50 groups, 200 project roles)"
# What the permission cache case seeded in the current database, for the
# visibility probe on a second instance.
authz_state = {}


def cases(server, client_id, secret, admin_token, connections):
    token_url = server.url + "/api/rest/oauth2/token"
    basic = basic_header(client_id, secret)
    form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic}
    cc = post_form(token_url, {"grant_type": "client_credentials", "scope": client_id}, (client_id, secret))
    user = post_form(token_url, {"grant_type": "password", "username": "bench", "password": "bench-password",
                                 "scope": "openid profile email"}, (client_id, secret))
    yield "client_credentials", lambda: lua_static("POST", "/api/rest/oauth2/token", form_headers,
                                           f"grant_type=client_credentials&scope={client_id}")
    def dpop_script():
        # One proof per request, made ahead (unmeasured), each good for 60 s.
        threads = 1 if connections == 1 else 2
        needed = (duration_of_run + 2) * (6000 if connections > 1 else 4000) // threads
        proofs = dpop_proofs(token_url, needed * threads)
        return lua_with_proofs("/api/rest/oauth2/token", form_headers,
                               f"grant_type=client_credentials&scope={client_id}",
                               [proofs[i * needed:(i + 1) * needed] for i in range(threads)])

    yield "client_credentials DPoP", dpop_script
    subject = post_form(token_url, {"grant_type": "password", "username": "bench", "password": "bench-password",
                                    "scope": client_id}, (client_id, secret))["access_token"]
    exchange_body = urllib.parse.urlencode({
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "subject_token": subject,
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token", "audience": client_id})
    yield "token exchange", lambda: lua_static("POST", "/api/rest/oauth2/token", form_headers, exchange_body)
    yield "password", lambda: lua_static("POST", "/api/rest/oauth2/token", form_headers,
                                 "grant_type=password&username=bench&password=bench-password")
    def refresh_script():
        # Fresh tokens per run: a run leaves every token it started with used.
        threads = 1 if connections == 1 else 2
        per_thread = connections // threads + 2
        offline = {"grant_type": "password", "username": "bench", "password": "bench-password", "access_type": "offline"}
        pools = [[post_form(token_url, offline, (client_id, secret))["refresh_token"] for _ in range(per_thread)]
                 for _ in range(threads)]
        return lua_refresh("/api/rest/oauth2/token", basic, pools)

    yield "refresh (rotating)", refresh_script
    auth_path = "/api/rest/oauth2/auth?" + urllib.parse.urlencode(
        {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid"})
    cookie = browser_session(server.url, "bench", "bench-password")
    code_dir = tempfile.mkdtemp(prefix="idhub-codes-")
    yield "authorize (code, signed in)", lambda: lua_collect_codes(auth_path, cookie, code_dir)

    def exchange_script():
        threads = 1 if connections == 1 else 2
        # Enough codes for the run at a generous rate; made ahead, unmeasured.
        needed = (duration_of_run + 2) * (4000 if connections > 1 else 1500) // threads
        while True:
            codes = []
            for name in sorted(os.listdir(code_dir)):
                with open(os.path.join(code_dir, name)) as f:
                    codes.extend(line.strip() for line in f if line.strip())
            if len(codes) >= needed * threads:
                break
            run_wrk(server.url, lua_collect_codes(auth_path, cookie, code_dir), 32, 3)
        for name in os.listdir(code_dir):
            os.unlink(os.path.join(code_dir, name))
        return lua_exchange_codes("/api/rest/oauth2/token", basic, CALLBACK,
                                  [codes[i * needed:(i + 1) * needed] for i in range(threads)])

    yield "code exchange", exchange_script
    yield "introspection", lambda: lua_static("POST", "/api/rest/oauth2/introspect", form_headers,
                                      "token=" + cc["access_token"])
    many = {}

    def introspect_many_script():
        if "file" not in many:
            started = time.monotonic()
            tokens = many_tokens(server.url, client_id, secret, many_token_count)
            if len(set(tokens)) != many_token_count:
                sys.exit("seeding tokens gave duplicates")
            handle, many["file"] = tempfile.mkstemp(prefix="idhub-tokens-", suffix=".txt")
            with os.fdopen(handle, "w") as f:
                f.write("\n".join(tokens) + "\n")
            print(f"  seeded {len(tokens)} tokens in {time.monotonic() - started:.1f} s", file=sys.stderr)
        threads = 1 if connections == 1 else 2
        return lua_introspect_many("/api/rest/oauth2/introspect", basic, many["file"], threads)

    try:
        yield f"introspection ({many_token_count // 1000}k tokens)", introspect_many_script
    finally:
        # ~80 MB for 100,000 tokens: do not leave it behind in /tmp.
        if "file" in many:
            os.unlink(many["file"])
    yield "userinfo", lambda: lua_static("GET", "/api/rest/oauth2/userinfo", {"Authorization": "Bearer " + user["access_token"]})
    hub_user = post_form(token_url, {"grant_type": "password", "username": "bench", "password": "bench-password",
                                     "scope": "0-0-0-0-0"}, (client_id, secret))["access_token"]

    def permission_cache_script():
        if "seeded" not in authz_state:
            authz_state["seeded"] = authz.seed(server.url, admin_token, hub_user, client_id)
            authz_state["user_token"] = hub_user
        return lua_static("GET", "/api/rest/permissions/cache", {"Authorization": "Bearer " + hub_user})

    yield PERMISSION_CACHE, permission_cache_script
    yield "JWKS", lambda: lua_static("GET", "/api/rest/oauth2/keys", {})
    yield "discovery", lambda: lua_static("GET", "/.well-known/openid-configuration", {})
    admin = {"Authorization": "Bearer " + admin_token}
    for name, query in [("list services (name)", "query=name:%20%7BSeeded%20service%204242%7D&$top=10"),
                        ("list services (is: trusted)", "query=is:%20trusted&$top=20"),
                        ("list services (deep $skip)", "$skip=90000&$top=10")]:
        yield name, lambda query=query: lua_static("GET", "/api/rest/services?" + query, admin)
    yield "POST /api/rest/services", lambda: lua_static("POST", "/api/rest/services?fields=id,secret",
                                               {"Content-Type": "application/json", "Authorization": "Bearer " + admin_token},
                                               json.dumps({"name": "bench-created"}))


def backends(selected):
    if "sqlite" in selected:
        directory = tempfile.mkdtemp(prefix="idhub-bench-")
        yield "SQLite", f"sqlite://{directory}/idhub.db", lambda: shutil.rmtree(directory, ignore_errors=True)
    if "postgres" in selected:
        name = f"idhub_bench_{os.getpid()}"
        parsed = urllib.parse.urlparse(PG_BASE)
        sh("psql", PG_BASE, "-qc", f"DROP DATABASE IF EXISTS {name}")
        sh("psql", PG_BASE, "-qc", f"CREATE DATABASE {name}")
        url = urllib.parse.urlunparse(parsed._replace(path="/" + name))
        yield "PostgreSQL", url, lambda: sh("psql", PG_BASE, "-qc", f"DROP DATABASE IF EXISTS {name}", check=False)


def openssl_speed(seconds):
    out = sh("openssl", "speed", "-seconds", str(seconds), "rsa2048", "ecdsap256")
    rsa = re.search(r"rsa 2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    ecdsa = re.search(r"256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", out)
    return float(rsa.group(1)) if rsa else 0.0, float(ecdsa.group(1)) if ecdsa else 0.0


def many_tokens_case(name):
    return re.fullmatch(r"introspection \(\d+k tokens\)", name) is not None


def wanted(name, only):
    """--only matches a case by name; the many-token introspection case also
    answers to its full-run name when --quick shrinks it."""
    return not only or name in only or (many_tokens_case(name) and any(many_tokens_case(o) for o in only))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: 1 s per case, 32 connections")
    parser.add_argument("--duration", type=int, default=8, help="seconds per case (after a 1 s warm-up)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--connections", default="1,32")
    parser.add_argument("--only", default="", help="comma-separated case names to run")
    parser.add_argument("--seed", metavar="SERVICES,USERS,GRANTS",
                        help="fill each database first with bench/seed.py, e.g. 100000,1000000,3000000")
    parser.add_argument("--binary", help="an idhub binary to measure; skips the release build")
    parser.add_argument("--server-env", action="append", default=[], metavar="IDHUB_X=V",
                        help="extra setting for the server, e.g. IDHUB_POOL_SIZE=16 (repeatable)")
    args = parser.parse_args()
    duration = 1 if args.quick else args.duration
    global duration_of_run, many_token_count, BINARY
    duration_of_run = duration
    if args.quick:
        many_token_count = 2_000
    if args.binary:
        BINARY = os.path.abspath(args.binary)
    connection_counts = [32] if args.quick else [int(c) for c in args.connections.split(",")]
    # Commas inside a case's parentheses ("authorize (code, signed in)") do not split.
    only = [c.strip() for c in re.split(r",(?![^()]*\))", args.only) if c.strip()]
    ensure_tools(build=not args.binary)

    rsa_signs, ecdsa_signs = (0.0, 0.0) if args.quick else openssl_speed(3)
    # Measured before any load, on an idle machine.
    hash_ms = float(sh(BINARY, "passwords", "time", "--iterations", "10"))
    rows, failed, ready_times, known = [], False, [], {"client_credentials ES256"}
    visibility_rows = []
    for backend, url, cleanup in backends(args.backends.split(",")):
        try:
            extra_env = dict(item.split("=", 1) for item in args.server_env)
            server = Server(url, extra_env)
            client_id, secret, admin_token = seed(server)
            if args.seed:
                services, users, grants = (int(n) for n in args.seed.split(","))
                started = time.monotonic()
                subprocess.run([sys.executable, os.path.join(ROOT, "bench", "seed.py"), url,
                                "--services", str(services), "--users", str(users), "--grants", str(grants)],
                               check=True)
                print(f"{backend}: seeded in {time.monotonic() - started:.0f} s", file=sys.stderr)
            server.start()
            print(f"{backend}: ready {server.ready_ms:.0f} ms after start", file=sys.stderr)
            ready_times.append((backend, server.ready_ms))
            for connections in connection_counts:
                for name, make_script in cases(server, client_id, secret, admin_token, connections):
                    known.add(name)
                    if not wanted(name, only):
                        continue
                    run_wrk(server.url, make_script(), connections, 1)  # warm-up
                    result, cpu, rss = server.measure(server.url, make_script(), connections, duration)
                    failed |= result["errors"] > 0
                    rows.append((backend, name, connections, result, rss, cpu))
                    print(f"  {name:<26} c={connections:<3} {result['rps']:>9.0f} req/s  errors {result['errors']}",
                          file=sys.stderr)
            if authz_state:
                # The same issuer, so the first instance's tokens hold on the second.
                other = Server(url, {**extra_env, "IDHUB_ISSUER": server.url}).start()
                seen = authz.visibility(server.url, other.url, admin_token, authz_state["user_token"],
                                        authz_state["seeded"])
                other.stop()
                visibility_rows.append((backend, seen))
                print(f"  membership change seen on a second instance: median {seen['median']:.1f} ms, "
                      f"max {seen['max']:.1f} ms", file=sys.stderr)
                authz_state.clear()
            server.stop()
            # ES256: the same database, restarted with the other algorithm (a new key is made).
            server = Server(url, {**extra_env, "IDHUB_SIGNING_ALGORITHM": "ES256"}).start()
            for connections in connection_counts:
                if only and "client_credentials ES256" not in only:
                    continue
                script = lua_static("POST", "/api/rest/oauth2/token", {
                    "Content-Type": "application/x-www-form-urlencoded", "Authorization": basic_header(client_id, secret)},
                    f"grant_type=client_credentials&scope={client_id}")
                run_wrk(server.url, script, connections, 1)
                result, cpu, rss = server.measure(server.url, script, connections, duration)
                failed |= result["errors"] > 0
                rows.append((backend, "client_credentials ES256", connections, result, rss, cpu))
                print(f"  {'client_credentials ES256':<26} c={connections:<3} {result['rps']:>9.0f} req/s  errors {result['errors']}",
                      file=sys.stderr)
            server.stop()
        finally:
            cleanup()

    unknown = [o for o in only if not any(wanted(name, [o]) for name in known)]
    if unknown:
        sys.exit(f"--only names no case: {', '.join(unknown)}; the cases are: {', '.join(sorted(known))}")
    cores = os.cpu_count() or 1
    print(f"\nopenssl speed on this machine (one core): rsa2048 {rsa_signs:.0f} signs/s, "
          f"ecdsap256 {ecdsa_signs:.0f} signs/s")
    print(f"Argon2id at the default settings: {hash_ms:.1f} ms per verification, so at most "
          f"{cores * 1000 / hash_ms:.0f} password grants/s on {cores} cores")
    for backend, ms in ready_times:
        print(f"{backend}: ready {ms:.0f} ms after start")
    for backend, seen in visibility_rows:
        print(f"{backend}: a membership change shows on a second instance after {seen['median']:.1f} ms "
              f"(median of 50), 90 % within {seen['p90']:.1f} ms, {seen['max']:.1f} ms at most")
    print()
    print("| backend | case | conns | req/s | p50 ms | p99 ms | errors | server RSS MB, peak in case (of it anonymous) | server CPU % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for backend, name, connections, r, rss, cpu in rows:
        print(f"| {backend} | {name} | {connections} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['errors']} | {rss[0]:.1f} ({rss[1]:.1f}) | {cpu:.0f} |")
    if failed:
        sys.exit("FAILED: some requests got non-2xx answers or socket errors")


if __name__ == "__main__":
    main()
