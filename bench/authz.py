"""The permission-cache case of bench/run.py: seeds Hub's authorization model
through the REST API, as an admin would, and measures how soon a second
instance on the same database answers a membership change.

The model: the bench service declares 10 permissions; 5 roles bundle 2-4 of
them; 1,000 projects; 50 groups in 10 chains 5 deep, the bench user a member
of the 10 deepest (so of all 50 through nesting); 200 project roles over the
projects, 100 granted to the user and 100 to the groups (2 per group), one
role in Global.
"""
import concurrent.futures
import json
import statistics
import time
import urllib.request

PERMISSIONS = 10
ROLES = 5
PROJECTS = 1000
CHAINS, DEPTH = 10, 5
USER_GRANTS, GROUP_GRANTS_EACH = 100, 2


def rest(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as r:
        return json.load(r)


def parallel(work, items, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))


def seed(base, admin_token, user_token, service_id):
    """Builds the model; returns what the visibility probe needs."""
    started = time.monotonic()
    post = lambda path, body: rest(base, admin_token, "POST", path, body)
    user_id = rest(base, user_token, "GET", "/api/rest/users/me")["id"]
    permissions = [post("/api/rest/permissions", {"key": f"bench.p{i}", "service": {"id": service_id}})["id"]
                   for i in range(PERMISSIONS)]
    roles = []
    for r in range(ROLES):
        bundled = [{"id": permissions[(r * 2 + k) % PERMISSIONS]} for k in range(2 + r % 3)]
        roles.append(post("/api/rest/roles", {"key": f"bench-role-{r}", "permissions": bundled})["id"])
    projects = parallel(lambda p: post("/api/rest/projects", {"key": f"P{p:04d}"})["id"], range(PROJECTS))
    groups, leaves = [], []
    for chain in range(CHAINS):
        parent = None
        for level in range(DEPTH):
            body = {"name": f"bench-g{chain}-{level}"}
            if parent:
                body["parent"] = {"id": parent}
            parent = post("/api/rest/usergroups", body)["id"]
            groups.append(parent)
        leaves.append(parent)
    for leaf in leaves:
        post(f"/api/rest/usergroups/{leaf}/users", {"id": user_id})
    # Spread over the projects: grant n lands in project n * 5 (mod 1000).
    user_grants = [(roles[n % ROLES], projects[(n * 5) % PROJECTS]) for n in range(USER_GRANTS)]
    user_grants[0] = (roles[0], "0-0-0-0-0")
    parallel(lambda g: post(f"/api/rest/users/{user_id}/projectroles",
                            {"role": {"id": g[0]}, "project": {"id": g[1]}}), user_grants)
    group_grants = [(group, roles[(i + k) % ROLES], projects[(i * 7 + k * 500 + 3) % PROJECTS])
                    for i, group in enumerate(groups) for k in range(GROUP_GRANTS_EACH)]
    parallel(lambda g: post(f"/api/rest/usergroups/{g[0]}/projectroles",
                            {"role": {"id": g[1]}, "project": {"id": g[2]}}), group_grants)
    answer = rest(base, user_token, "GET", "/api/rest/permissions/cache")
    held = sum(len(h["projects"]) for h in answer)
    print(f"  seeded the authorization model in {time.monotonic() - started:.1f} s: "
          f"{len(answer)} permissions held in {held} (permission, project) pairs", flush=True,
          file=__import__("sys").stderr)
    return {"user": user_id, "spare_group": groups[0]}


def visibility(base, other_base, admin_token, user_token, seeded, rounds=50):
    """Milliseconds from a membership change answered on `base` to the first
    answer of `other_base` that shows it, per round (alternately a join and a
    leave of a top-level group holding a role in a fresh project)."""
    post = lambda path, body: rest(base, admin_token, "POST", path, body)
    project = post("/api/rest/projects", {"key": "PROBE"})["id"]
    group = post("/api/rest/usergroups", {"name": "bench-probe"})["id"]
    role = rest(base, admin_token, "GET", "/api/rest/roles?$top=1")["roles"][0]["id"]
    post(f"/api/rest/usergroups/{group}/projectroles", {"role": {"id": role}, "project": {"id": project}})

    def shows_probe():
        answer = rest(other_base, user_token, "GET", "/api/rest/permissions/cache")
        return any(p["key"] == "PROBE" for h in answer for p in h["projects"])

    delays = []
    for n in range(rounds):
        joining = n % 2 == 0
        if joining:
            post(f"/api/rest/usergroups/{group}/users", {"id": seeded["user"]})
        else:
            rest(base, admin_token, "DELETE", f"/api/rest/usergroups/{group}/users/{seeded['user']}")
        changed = time.monotonic()
        while shows_probe() != joining:
            if time.monotonic() - changed > 5:
                raise SystemExit("the other instance did not see a membership change within 5 s")
        delays.append((time.monotonic() - changed) * 1000)
    delays.sort()
    return {"median": statistics.median(delays), "p90": delays[int(len(delays) * 0.9)], "max": delays[-1]}
