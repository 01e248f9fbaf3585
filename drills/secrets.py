"""Drill: no secret ever reaches an output, a log, the config or the ledger.

Every command runs with ``-v`` (debug logs, tracebacks) and ``--json``, over the happy path
and over the error paths where secrets leak most easily (a reused grant code, a fault storm
with retries, revoked tokens, logout). Then the client secret and every refresh and access
token are searched for, byte for byte, in every captured stdout/stderr and in every file of
the profile's home and XDG folders, except exactly the two files whose job is to hold them:
the insecure secrets file (``<state>/secrets.json``) and the token cache
(``<state>/zoho-token.json``). The secrets file must be mode 0600.

The tokens are read from those two files after every command (they change on re-activation
and refresh) and, for good measure, also from the sandbox's own table of issued tokens.

    .venv/bin/python drills/secrets.py [--short]   (both modes are the same size)
"""

from __future__ import annotations

import argparse
import json
import stat
import time
from pathlib import Path

import _pathfix  # noqa: F401  (first: this file's name shadows the stdlib `secrets`)
from common import (
    LINKS,
    SENIOR,
    DrillError,
    Profile,
    generate_calls,
    log,
    sandbox,
    verdict,
    workdir,
    write_export,
)

from ringodesk_cli.sandbox import Sandbox

NAME = "secrets"
SECRETS_FILE = "secrets.json"
TOKEN_CACHE = "zoho-token.json"


class Harvest:
    """Every secret value seen so far, by what it is."""

    def __init__(self, sb: Sandbox, client_secret: str) -> None:
        self.sb = sb
        self.values: dict[str, str] = {client_secret: "client secret"}
        self.secret_files: list[Path] = []

    def collect(self, profile: Profile) -> None:
        for path in profile.home.rglob(SECRETS_FILE):
            self._add_json(path, {"client_secret", "refresh_token", "ringostat_key"})
            if path not in self.secret_files:
                self.secret_files.append(path)
        for path in profile.home.rglob(TOKEN_CACHE):
            self._add_json(path, None)
        with self.sb.accounts.lock:
            refresh = list(self.sb.accounts.refresh_tokens)
            access = list(self.sb.accounts.access_tokens)
        for token in refresh:
            self.values.setdefault(token, "refresh token")
        for token in access:
            self.values.setdefault(token, "access token")

    def _add_json(self, path: Path, names: set[str] | None) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for key, value in _walk(data):
            if not isinstance(value, str) or len(value) < 12:
                continue
            if names is None and "token" not in key.lower():
                continue
            if names is not None and key not in names:
                continue
            kind = "refresh token" if "refresh" in key else key.replace("_", " ")
            self.values.setdefault(value, kind)


def _walk(data: object, key: str = "") -> list[tuple[str, object]]:
    if isinstance(data, dict):
        found: list[tuple[str, object]] = []
        for k, v in data.items():
            found.extend(_walk(v, str(k)))
        return found
    if isinstance(data, list):
        return [pair for item in data for pair in _walk(item, key)]
    return [(key, data)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="same drill (it is short)")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    log(f"{NAME}: every command with -v and --json, seed {args.seed}")
    sb = sandbox(seed=args.seed)
    try:
        with workdir(NAME, args.keep) as root:
            return _drill(sb, root, args)
    except DrillError as exc:
        return verdict(NAME, False, f"could not run: {exc}")
    finally:
        sb.stop()


def _drill(sb: Sandbox, root: Path, args: argparse.Namespace) -> int:
    profile = Profile(sb, root)
    harvest = Harvest(sb, sb.client_secret)
    export = write_export(root / "calls.csv", generate_calls(20, seed=args.seed))
    # New calls for the runs after the revocation, so that they have something to send.
    later = write_export(root / "later.csv", generate_calls(10, seed=args.seed + 1))
    codes: dict[str, int] = {}

    def run(label: str, *argv: str, expect: tuple[int, ...] = (0,)) -> None:
        # The global flags: every command takes them (not every command has its own --json).
        done = profile.run("-v", "--json", *argv)
        codes[label] = done.code
        harvest.collect(profile)
        if done.code not in expect:
            log(f"  {label}: exit {done.code} (expected {expect}): {done.stderr.strip()[-300:]}")

    activate = (
        "activate", "--no-input", "--insecure-storage",
        "--accounts-url", sb.url, "--desk-url", sb.url, "--client-id", sb.client_id,
        "--client-secret-file", str(profile.secret_file), "--senior-manager", SENIOR,
    )  # fmt: skip
    code = sb.mint_grant_code()
    run("activate", *activate, "--grant-code", code)
    run("activate (used code)", *activate, "--grant-code", code, expect=(3, 4))
    run("auth status", "auth", "status")
    run("agents list", "agents", "list")
    run("manager show", "manager", "show")
    run("manager set", "manager", "set", SENIOR)
    run("fields create", "fields", "create")
    run("fields list", "fields", "list")
    run("fields check", "fields", "check")
    for sip, agent in LINKS.items():
        run(f"employees link {sip}", "employees", "link", sip, agent)
    run("employees list", "employees", "list")
    run("mapping list", "mapping", "list")
    run("mapping check", "mapping", "check")
    run("config set", "config", "set", "ringostat.timezone", "Europe/Kyiv")
    run("config show", "config", "show")
    run("config path", "config", "path")
    run("sync --dry-run", "sync", "--dry-run", str(export))
    sb.set_faults(fail_rate=0.3, kinds=("429", "500", "drop"))
    run("sync (fault storm)", "sync", str(export), expect=(0, 5, 6))
    sb.set_faults(fail_rate=0.0)
    run("sync", "sync", str(export))
    if "doctor" in profile.run("--help", save=False).stdout:
        run("doctor", "doctor", expect=(0, 1, 3, 4, 5, 6))
    else:
        log("  doctor: not in this build (skipped)")
    sb.revoke_all_tokens()
    run("auth status (revoked)", "auth", "status", expect=(0, 4))
    run("sync (revoked)", "sync", "--replay", "3d", str(later), expect=(4,))
    run("activate (again)", *activate, "--grant-code", sb.mint_grant_code())
    run("sync --replay 3d", "sync", "--replay", "3d", str(later))
    modes = {str(p): stat.S_IMODE(p.stat().st_mode) for p in harvest.secret_files if p.exists()}
    cache_modes = {str(p): stat.S_IMODE(p.stat().st_mode) for p in profile.home.rglob(TOKEN_CACHE)}
    run("auth logout", "auth", "logout", expect=(0,))

    excluded = {p.resolve() for p in profile.home.rglob(SECRETS_FILE)}
    excluded |= {p.resolve() for p in profile.home.rglob(TOKEN_CACHE)}
    searched = [
        p
        for folder in (profile.outputs, profile.home, *(root / x for x in XDG))
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file() and p.resolve() not in excluded
    ]
    leaks = _search(searched, harvest.values)
    # Control: the same search must find the client secret where it is meant to be.
    control = _search(sorted(excluded), {sb.client_secret: "client secret"})
    kinds: dict[str, int] = {}
    for kind in harvest.values.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    for path, kind in leaks[:20]:
        log(f"  LEAK: {kind} in {path.relative_to(root)}")
    bad_modes = {p: oct(m) for p, m in modes.items() if m != 0o600}
    problems = []
    if not modes:
        problems.append("no insecure secrets file was written")
    if not control:
        problems.append("control failed: the client secret was not found in its own file")
    if bad_modes:
        problems.append(f"secrets file mode is not 0600: {bad_modes}")
    if any(m & 0o077 for m in cache_modes.values()):
        problems.append(f"token cache readable by others: {cache_modes}")
    wrong = {k: v for k, v in codes.items() if k.startswith("sync") and v not in (0, 4, 5, 6)}
    if wrong:
        problems.append(f"unexpected exit codes: {wrong}")
    for problem in problems:
        log(f"  problem: {problem}")
    log(f"  exit codes: {codes}")
    return verdict(
        NAME,
        not leaks and not problems,
        f"{len(codes)} commands; searched {len(searched)} files for {len(harvest.values)} "
        f"values ({kinds}); {len(leaks)} leaks; secrets file mode "
        f"{', '.join(oct(m) for m in modes.values()) or 'missing'}, token cache mode "
        f"{', '.join(oct(m) for m in cache_modes.values()) or 'missing'}",
        root=root,
    )


XDG = ("xdg-config", "xdg-state", "xdg-data")


def _search(files: list[Path], values: dict[str, str]) -> list[tuple[Path, str]]:
    needles = [(v.encode("utf-8"), kind) for v, kind in values.items()]
    found: list[tuple[Path, str]] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for needle, kind in needles:
            if needle in data:
                found.append((path, kind))
    return found


if __name__ == "__main__":
    raise SystemExit(main())
