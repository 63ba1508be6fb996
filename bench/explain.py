#!/usr/bin/env python3
"""The query plan of every statement idhub runs on its hot paths, on a (seeded)
PostgreSQL database, with the same statements' SQLite plans beside them.

    bench/explain.py --binary target/release/idhub POSTGRES_URL [--sqlite PATH]

Turns on PostgreSQL's auto_explain for that database only (every statement's
plan goes to the server log), starts idhub on it, makes one request of each
hot path (client_credentials, introspection, userinfo, refresh, code exchange,
and the three service listings of bench/run.py), turns auto_explain off again,
and prints each distinct statement with its plan as markdown. With --sqlite it
also asks SQLite for `EXPLAIN QUERY PLAN` of each statement on that database.
Needs superuser rights (ALTER DATABASE … SET session_preload_libraries) and the
server log at /var/log/postgresql (Debian's layout) or --log.
"""
import argparse
import glob
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the same server and request helpers)


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def plans_from_log(text):
    """(query text, plan) pairs from auto_explain's log lines."""
    found = []
    for block in re.split(r"\n(?=\S.*LOG:\s+duration:)", text):
        if "plan:" not in block or "Query Text:" not in block:
            continue
        body = block.split("Query Text:", 1)[1]
        lines = body.split("\n")
        query = lines[0].strip()
        plan = []
        for line in lines[1:]:
            if not line.startswith(("\t", " ")) and line.strip():
                break
            if line.strip():
                plan.append(line.rstrip().removeprefix("\t"))
        found.append((query, "\n".join(plan)))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--binary", required=True)
    parser.add_argument("--sqlite", help="a SQLite idhub database to EXPLAIN QUERY PLAN the same statements on")
    parser.add_argument("--log", help="the PostgreSQL server log (default: the newest /var/log/postgresql/*.log)")
    args = parser.parse_args()
    bench.BINARY = os.path.abspath(args.binary)
    url = args.database_url
    database = urllib.parse.urlparse(url).path.lstrip("/")
    log = args.log or max(glob.glob("/var/log/postgresql/*.log"), key=os.path.getmtime)

    server = bench.Server(url)
    client_id, secret, admin_token = bench.seed(server)
    psql(url, f"ALTER DATABASE {database} SET session_preload_libraries = 'auto_explain'")
    psql(url, f"ALTER DATABASE {database} SET auto_explain.log_min_duration = 0")
    start_at = os.path.getsize(log)
    try:
        server.start()
        token_url = server.url + "/api/rest/oauth2/token"
        basic = (client_id, secret)
        cc = bench.post_form(token_url, {"grant_type": "client_credentials", "scope": client_id}, basic)
        bench.post_form(server.url + "/api/rest/oauth2/introspect", {"token": cc["access_token"]}, basic)
        user = bench.post_form(token_url, {"grant_type": "password", "username": "bench", "password": "bench-password",
                                           "scope": "openid profile", "access_type": "offline"}, basic)
        bench.post_form(token_url, {"grant_type": "refresh_token", "refresh_token": user["refresh_token"]}, basic)
        request = urllib.request.Request(server.url + "/api/rest/oauth2/userinfo",
                                         headers={"Authorization": "Bearer " + user["access_token"]})
        urllib.request.urlopen(request).read()
        cookie = bench.browser_session(server.url, "bench", "bench-password")
        auth = "/api/rest/oauth2/auth?" + urllib.parse.urlencode(
            {"response_type": "code", "client_id": client_id, "redirect_uri": bench.CALLBACK, "scope": "openid"})
        opener = urllib.request.build_opener(NoRedirect)
        answer = opener.open(urllib.request.Request(server.url + auth, headers={"Cookie": cookie}))
        code = urllib.parse.parse_qs(urllib.parse.urlparse(answer.headers["Location"]).query)["code"][0]
        bench.post_form(token_url, {"grant_type": "authorization_code", "code": code,
                                    "redirect_uri": bench.CALLBACK}, basic)
        for query in ["query=name:%20%7BSeeded%20service%204242%7D&$top=10", "query=is:%20trusted&$top=20",
                      "$skip=90000&$top=10"]:
            listing = urllib.request.Request(server.url + "/api/rest/services?" + query,
                                             headers={"Authorization": "Bearer " + admin_token})
            json.loads(urllib.request.urlopen(listing).read())
        time.sleep(0.5)
    finally:
        server.stop()
        psql(url, f"ALTER DATABASE {database} RESET session_preload_libraries")
        psql(url, f"ALTER DATABASE {database} RESET auto_explain.log_min_duration")
    with open(log, errors="replace") as f:
        f.seek(start_at)
        text = f.read()
    seen, rows = set(), []
    for query, plan in plans_from_log(text):
        if query in seen or query.upper().startswith(("SET ", "SHOW ", "LISTEN", "SELECT 1")):
            continue
        seen.add(query)
        rows.append((query, plan))
    lite = sqlite3.connect(args.sqlite) if args.sqlite else None
    for query, plan in rows:
        print(f"```sql\n{query}\n```\nPostgreSQL:\n```\n{plan}\n```")
        if lite:
            statement = re.sub(r"\$\d+", "?", query)
            try:
                count = statement.count("?")
                steps = lite.execute("EXPLAIN QUERY PLAN " + statement, [None] * count).fetchall()
                print("SQLite:\n```\n" + "\n".join(row[-1] for row in steps) + "\n```")
            except sqlite3.Error as error:
                print(f"SQLite: (not comparable: {error})")
        print()
    print(f"{len(rows)} distinct statements", file=sys.stderr)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_303(self, req, fp, code, msg, headers):
        return fp

    http_error_302 = http_error_303


if __name__ == "__main__":
    main()
