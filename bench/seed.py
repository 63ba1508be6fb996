#!/usr/bin/env python3
"""Fills an idhub database with generated rows, to measure idhub on big tables.

    bench/seed.py DATABASE_URL --services 100000 --users 1000000 --grants 3000000

Run it on a migrated database (start idhub once, or `idhub migrate`). Rows are
made by the database itself (PostgreSQL `generate_series`, SQLite a recursive
CTE), in one transaction per table, so 10 million rows take minutes, not hours:

- services `seed-svc-N` ("Seeded service N"), one redirect URI each, every tenth
  trusted, all with the secret `seed-secret`;
- users `seed-user-N` (login `user-N`), all with the password hash of the user
  named by --password-hash-of (default: admin), so any of them can sign in;
- grants `seed-grant-N` (user N mod users, service N mod services), and per grant
  one refresh token, one used authorization code and, for one grant in ten, a
  consent and a session (live or expired).

With --grants G the rows added are about 3.2 x G (grants, refresh tokens, codes
and the rest). With --expired E, E more rows that housekeeping deletes: half
refresh tokens expired 40 days ago (past the reuse window), a quarter codes two days past expiry, a quarter
sessions expired a day ago (spread over the seeded grants and users). Prints what
it made and how long each table took. The expired tokens and codes belong
to grants of their own (E/10 of them, besides the other rows), with no live
refresh token: chains that ended, which housekeeping may delete.
"""
import argparse
import hashlib
import sqlite3
import subprocess
import sys
import time

SECRET_HASH = hashlib.sha256(b"seed-secret").hexdigest()


def series(backend, count):
    """A relation `s(n)` of 0..count-1, as a WITH clause."""
    if backend == "postgres":
        return f"WITH s(n) AS (SELECT generate_series(0, {count} - 1))"
    return (f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {count})")


def statements(backend, services, users, grants, password_hash, expired):
    now = "now()" if backend == "postgres" else "datetime('now')"
    later = "now() + interval '30 days'" if backend == "postgres" else "datetime('now', '+30 days')"
    earlier = "now() - interval '1 day'" if backend == "postgres" else "datetime('now', '-1 day')"
    much_earlier = "now() - interval '2 days'" if backend == "postgres" else "datetime('now', '-2 days')"
    # Expired more than a refresh token lifetime (30 days) ago: past the reuse window.
    long_ago = "now() - interval '40 days'" if backend == "postgres" else "datetime('now', '-40 days')"
    true, false = ("TRUE", "FALSE") if backend == "postgres" else ("1", "0")
    hash_text = password_hash.replace("'", "''")
    yield "services", services, f"""{series(backend, services)}
        INSERT INTO services (id, name, base_urls, secret_hash, trusted, consent_required, pkce_required,
            public_client, impersonation, implicit_flow_enabled, password_flow_enabled,
            client_credentials_flow_enabled, created, secret_rotated)
        SELECT 'seed-svc-' || n, 'Seeded service ' || n, '[]', '{SECRET_HASH}',
            CASE WHEN n % 10 = 0 THEN {true} ELSE {false} END, {true}, {false}, {false}, {false},
            {true}, {true}, {true}, {now}, {now} FROM s"""
    yield "service_redirect_uris", services, f"""{series(backend, services)}
        INSERT INTO service_redirect_uris (service_id, position, uri)
        SELECT 'seed-svc-' || n, 0, 'https://svc-' || n || '.example.com/cb' FROM s"""
    yield "users", users, f"""{series(backend, users)}
        INSERT INTO users (id, login, name, email, password_hash, admin, guest, banned, created, updated)
        SELECT 'seed-user-' || n, 'user-' || n, 'Seeded User ' || n, 'user-' || n || '@example.com',
            '{hash_text}', {false}, {false}, {false}, {now}, {now} FROM s"""
    yield "grants", grants, f"""{series(backend, grants)}
        INSERT INTO grants (id, service_id, user_id, scope, created)
        SELECT 'seed-grant-' || n, 'seed-svc-' || (n % {services}), 'seed-user-' || (n % {users}),
            '0-0-0-0-0', {now} FROM s"""
    yield "refresh_tokens", grants, f"""{series(backend, grants)}
        INSERT INTO refresh_tokens (token_hash, grant_id, scope, created, expires_at, used_at)
        SELECT 'seed-rt-' || n, 'seed-grant-' || n, '0-0-0-0-0', {now}, {later},
            CASE WHEN n % 2 = 0 THEN {now} ELSE NULL END FROM s"""
    yield "authorization_codes", grants, f"""{series(backend, grants)}
        INSERT INTO authorization_codes (code_hash, grant_id, redirect_uri, scope, auth_time, created,
            expires_at, used_at)
        SELECT 'seed-code-' || n, 'seed-grant-' || n, 'https://svc.example.com/cb', '0-0-0-0-0',
            {earlier}, {earlier}, {earlier}, {earlier} FROM s"""
    tenth = max(grants // 10, 1)
    pairs = min(tenth, users)
    yield "consents", pairs, f"""{series(backend, pairs)}
        INSERT INTO consents (user_id, service_id, scope, created, updated)
        SELECT 'seed-user-' || n, 'seed-svc-' || (n % {services}), '0-0-0-0-0', {now}, {now} FROM s"""
    yield "sessions", tenth, f"""{series(backend, tenth)}
        INSERT INTO sessions (id_hash, user_id, auth_time, created, expires_at)
        SELECT 'seed-session-' || n, 'seed-user-' || (n % {users}), {now}, {now},
            CASE WHEN n % 2 = 0 THEN {later} ELSE {earlier} END FROM s"""
    if expired:
        half, quarter = expired // 2, expired // 4
        ended = max(expired // 10, 1)
        yield "grants (ended chains)", ended, f"""{series(backend, ended)}
            INSERT INTO grants (id, service_id, user_id, scope, created)
            SELECT 'seed-ended-grant-' || n, 'seed-svc-' || (n % {services}), 'seed-user-' || (n % {users}),
                '0-0-0-0-0', {much_earlier} FROM s"""
        yield "refresh_tokens (expired)", half, f"""{series(backend, half)}
            INSERT INTO refresh_tokens (token_hash, grant_id, scope, created, expires_at)
            SELECT 'seed-expired-rt-' || n, 'seed-ended-grant-' || (n % {ended}), '0-0-0-0-0',
                {long_ago}, {long_ago} FROM s"""
        yield "authorization_codes (expired)", quarter, f"""{series(backend, quarter)}
            INSERT INTO authorization_codes (code_hash, grant_id, redirect_uri, scope, auth_time, created,
                expires_at)
            SELECT 'seed-expired-code-' || n, 'seed-ended-grant-' || (n % {ended}), 'https://svc.example.com/cb',
                '0-0-0-0-0', {much_earlier}, {much_earlier}, {much_earlier} FROM s"""
        yield "sessions (expired)", expired - half - quarter, f"""{series(backend, expired - half - quarter)}
            INSERT INTO sessions (id_hash, user_id, auth_time, created, expires_at)
            SELECT 'seed-expired-session-' || n, 'seed-user-' || (n % {users}), {much_earlier},
                {much_earlier}, {earlier} FROM s"""


def run_postgres(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True)


def password_hash_postgres(url, login):
    out = subprocess.run(["psql", url, "-Atc", f"SELECT password_hash FROM users WHERE login = '{login}'"],
                         check=True, capture_output=True, text=True).stdout.strip()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--grants", type=int, default=10000)
    parser.add_argument("--expired", type=int, default=0, help="rows for housekeeping to delete")
    parser.add_argument("--password-hash-of", default="admin", help="login whose password hash every seeded user gets")
    args = parser.parse_args()
    if min(args.services, args.users, args.grants) < 1:
        sys.exit("--services, --users and --grants must be at least 1")
    url = args.database_url
    if url.startswith(("postgres://", "postgresql://")):
        backend = "postgres"
        password_hash = password_hash_postgres(url, args.password_hash_of)
        execute = lambda sql: run_postgres(url, sql)
        finish = lambda: run_postgres(url, "VACUUM ANALYZE")
    elif url.startswith("sqlite:"):
        backend = "sqlite"
        path = url[len("sqlite://"):] if url.startswith("sqlite://") else url[len("sqlite:"):]
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        row = conn.execute("SELECT password_hash FROM users WHERE login = ?", (args.password_hash_of,)).fetchone()
        password_hash = row[0] if row else ""

        def execute(sql):
            conn.execute("BEGIN")
            conn.execute(sql)
            conn.execute("COMMIT")
        finish = lambda: conn.execute("ANALYZE")
    else:
        sys.exit("DATABASE_URL must be sqlite://PATH or postgres://...")
    if not password_hash:
        sys.exit(f"no user '{args.password_hash_of}' with a password in that database: start idhub on it once")
    total = 0
    for table, count, sql in statements(backend, args.services, args.users, args.grants, password_hash, args.expired):
        started = time.monotonic()
        execute(sql)
        total += count
        print(f"  {table:<22} {count:>11,} rows in {time.monotonic() - started:6.1f} s", file=sys.stderr)
    started = time.monotonic()
    finish()
    print(f"  {'(analyze)':<22} {'':>11} in {time.monotonic() - started:6.1f} s", file=sys.stderr)
    print(f"seeded {total:,} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
