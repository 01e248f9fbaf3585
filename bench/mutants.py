"""A small mutation check: does the test suite notice a deliberate bug?

Each mutant is one small change to one product module (a comparison flipped, ``and``
for ``or``, ``+`` for ``-``, an integer constant off by one, ``True`` for ``False``, a
``not`` dropped, a call statement, an early ``return`` or a ``raise`` removed). For each, the
tests that cover the module run with ``-x`` (stop at the first failure); a mutant is
*killed* when they fail, *survived* when they pass, *timeout* when they take too long (an
infinite loop counts as caught). The file is always restored, also on Ctrl-C; a run killed
with ``kill -9`` leaves its backups in ``bench/results/mutants-backup/`` and the next run
puts them back first.

What is mutated and which tests cover it is one table, ``MODULES`` (below): a row per module
or glob; when a module moves to another package, edit its path there. Scores are reported
per package (the module's folder).

    .venv/bin/python bench/mutants.py --max 40 --seed 1      # a sample, a few minutes
    .venv/bin/python bench/mutants.py --per-module 6 --module serve/   # 6 of each module
    .venv/bin/python bench/mutants.py --list                  # every mutant, nothing run
    .venv/bin/python bench/mutants.py --module phones --max 10
    .venv/bin/python bench/mutants.py --only src/ringodesk_cli/rules/planner.py:170

Exit status: 0 always after a complete run (it measures; it does not gate), 2 when the
unmutated tests fail, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BACKUP = RESULTS / "mutants-backup"

# THE TABLE: which product modules are mutated, and the test files that cover each, fastest
# first (``-x`` stops at the first failure, so a mutant a unit test catches costs a second).
# One row per module or glob (relative to the repository); a module's own test file
# (``tests/test_<package>_<module>.py``) is always put in front. When a module moves (e.g.
# ``sync/*`` into ``ledger/``, ``contacts/``, ``rules/``, ``delivery/``), edit its row here
# and nothing else. The package a score is reported under is the module's folder.
_CORE = ("sync", "delivery", "rules", "contacts", "ledger")  # what sync/ was before
_SERVE = (
    "tests/test_serve_receiver.py",
    "tests/test_serve_worker.py",
    "tests/test_serve_supervisor.py",
    "tests/test_serve_webhook.py",
)
_RULES = (
    "tests/test_sync_rules.py",
    "tests/test_sync_open_tickets.py",
    "tests/test_sync_business_hours_table.py",
    "tests/test_sync_business_hours.py",
    "tests/test_sync_planner.py",
)
_RECORDINGS = (
    "tests/test_recordings_pass.py",
    "tests/test_recordings_transfer.py",
    "tests/test_recordings_hosts.py",
)
_HTTP = ("tests/test_zoho_http.py", "tests/test_retry.py", "tests/test_zoho_desk.py")
_TEMPLATES = ("tests/test_sync_templates.py", "tests/test_sync_planner.py")
_SYNC = (
    "tests/test_sync_planner.py",
    "tests/test_sync_contacts_lookup.py",
    "tests/test_sync_contact_index.py",
    "tests/test_sync_intake.py",
    "tests/test_sync_ledger.py",
    "tests/test_sync_window.py",
    "tests/test_sync_api_source.py",
    "tests/test_sync_runner.py",
)
MODULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # serve/: the receiver, its inbox, the worker and its supervisor
    ("src/ringodesk_cli/serve/worker.py", _SERVE),
    ("src/ringodesk_cli/serve/app.py", _SERVE),
    ("src/ringodesk_cli/serve/inbox.py", _SERVE),
    ("src/ringodesk_cli/serve/supervisor.py", _SERVE),
    # team rules, routing, reuse-open, business hours
    ("src/ringodesk_cli/rules/team_rules.py", _RULES),
    ("src/ringodesk_cli/rules/routing.py", _RULES),
    ("src/ringodesk_cli/rules/rules.py", _RULES),
    ("src/ringodesk_cli/rules/open_tickets.py", _RULES),
    ("src/ringodesk_cli/rules/business_hours.py", _RULES),
    # recordings
    ("src/ringodesk_cli/delivery/recordings.py", _RECORDINGS),
    ("src/ringodesk_cli/ringostat/recordings.py", _RECORDINGS),
    ("src/ringodesk_cli/config/hosts.py", _RECORDINGS),
    # the HTTP client
    ("src/ringodesk_cli/zoho/desk_transport.py", _HTTP),
    ("src/ringodesk_cli/http_retry.py", _HTTP),
    # templates and call texts
    ("src/ringodesk_cli/rules/templates.py", _TEMPLATES),
    ("src/ringodesk_cli/rules/call_texts.py", _TEMPLATES),
    # the contact index (refresh at the watermark, clock margin)
    ("src/ringodesk_cli/contacts/index.py", ("tests/test_sync_contact_index.py",)),
    # everything else of what was sync/ before the concept packages (the run, delivery,
    # rules, contacts, the ledger), the phone numbers, the tokens (the first rounds)
    *((f"src/ringodesk_cli/{p}/*.py", _SYNC) for p in _CORE),
    ("src/ringodesk_cli/ringostat/phones.py",
     ("tests/test_ringostat_phones.py", "tests/test_ringostat_records.py",
      "tests/test_sync_contacts_lookup.py", "tests/test_ringostat_exports.py")),
    ("src/ringodesk_cli/zoho/tokens.py",
     ("tests/test_zoho_tokens.py", "tests/test_zoho_desk.py", "tests/test_cli_activate.py")),
)  # fmt: skip
TARGETS = tuple(pattern for pattern, _ in MODULES)
# With --e2e: the end-to-end files too (the installed command as a subprocess; minutes each).
E2E_TESTS = (
    *((f"src/ringodesk_cli/{p}/*.py", ("tests/test_sync_e2e.py", "tests/test_sync_api_e2e.py"))
      for p in _CORE),
    ("src/ringodesk_cli/rules/team_rules.py", ("tests/test_team_rules_e2e.py",)),
)  # fmt: skip
PYTEST = ("-x", "-q", "-p", "no:cacheprovider")


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to ROOT
    index: int  # the n-th mutation site of the file, in AST walk order
    line: int
    description: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


# -- finding and applying mutations ----------------------------------------------------------
_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_SYMBOL = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}  # fmt: skip
# Keyword arguments whose integer value tunes a cache or a pool: +1 changes nothing a test
# could see, so such mutants would only be noise.
_TUNING_KEYWORDS = {"maxsize", "max_workers", "maxlen"}


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _stringy(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)
    )


class _Sites(ast.NodeTransformer):
    """Walks a module; counts every mutation site, and applies the one numbered ``target``
    (``None``: apply nothing, only record the sites)."""

    def __init__(self, target: int | None = None) -> None:
        self.target = target
        self.sites: list[tuple[int, str]] = []
        self.applied = False

    def _site(self, node: ast.AST, description: str) -> bool:
        """Record a site; True when it is the one to mutate now."""
        self.sites.append((getattr(node, "lineno", 0), description))
        hit = self.target == len(self.sites) - 1
        self.applied = self.applied or hit
        return hit

    # Parts of the code no mutant should touch: annotations, docstrings, TYPE_CHECKING
    # imports, assertions (they document invariants; flipping them tests nothing new).
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.body = self._body(node.body)
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [d if d is None else self.visit(d) for d in node.args.kw_defaults]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = self._body(node.body)
        return node

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._body(node.body)
        return node

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            if _is_docstring(stmt):
                out.append(stmt)
                continue
            result = self.visit(stmt)
            if result is None:
                continue
            out.extend(result if isinstance(result, list) else [result])
        return out or [ast.Pass()]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return node
        if "sys.platform" in ast.unparse(node.test):
            # Only the branch this platform runs: the other one no test here can reach.
            taken = eval(compile(ast.Expression(node.test), "<platform>", "eval"), {"sys": sys})
            if taken:
                node.body = self._body(node.body)
            elif node.orelse:
                node.orelse = self._body(node.orelse)
            return node
        node.test = self.visit(node.test)
        node.body = self._early_returns(self._body(node.body))
        node.orelse = self._early_returns(self._body(node.orelse)) if node.orelse else []
        return node

    def _early_returns(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """A ``return`` or ``raise`` inside an ``if``: removing it lets the code fall
        through."""
        kept = []
        for stmt in body:
            if isinstance(stmt, ast.Return) and self._site(stmt, "early return removed"):
                continue
            if isinstance(stmt, ast.Raise) and self._site(stmt, "raise removed"):
                continue
            kept.append(stmt)
        return kept or [ast.Pass()]

    def visit_For(self, node: ast.For) -> ast.AST:
        node.iter = self.visit(node.iter)
        node.body = self._body(node.body)
        node.orelse = self._body(node.orelse) if node.orelse else []
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        node.test = self.visit(node.test)
        node.body = self._body(node.body)
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        node.items = [self.visit(i) for i in node.items]
        node.body = self._body(node.body)
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node.body = self._body(node.body)
        for handler in node.handlers:
            handler.body = self._body(handler.body)
        node.orelse = self._body(node.orelse) if node.orelse else []
        node.finalbody = self._body(node.finalbody) if node.finalbody else []
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        if node.arg in _TUNING_KEYWORDS:
            return node
        self.generic_visit(node)
        return node

    # -- the mutations ----------------------------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = _COMPARE_SWAP.get(type(op))
            if swap is None:
                continue
            if self._site(node, f"{_SYMBOL[type(op)]} -> {_SYMBOL[swap]}"):
                node.ops[i] = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = "or" if isinstance(node.op, ast.And) else "and"
        if self._site(node, f"{'and' if other == 'or' else 'or'} -> {other}"):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Add | ast.Sub) and not (
            _stringy(node.left) or _stringy(node.right)
        ):
            plus = isinstance(node.op, ast.Add)
            if self._site(node, "+ -> -" if plus else "- -> +"):
                node.op = ast.Sub() if plus else ast.Add()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._site(node, "not x -> x"):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int) and self._site(node, f"{value} -> {value + 1}"):
            return ast.copy_location(ast.Constant(value + 1), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # format specs and literal text: nothing meaningful to flip

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Call) and self._site(node, "call statement removed"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        return node


def mutants_of(path: Path) -> list[Mutant]:
    rel = str(path.relative_to(ROOT))
    sites = _Sites()
    sites.visit(ast.parse(path.read_text(encoding="utf-8")))
    return [Mutant(rel, i, line, text) for i, (line, text) in enumerate(sites.sites)]


def mutated_source(path: Path, mutant: Mutant) -> str:
    sites = _Sites(target=mutant.index)
    tree = sites.visit(ast.parse(path.read_text(encoding="utf-8")))
    if not sites.applied:
        raise RuntimeError(f"{mutant.where}: mutant #{mutant.index} not found (file changed?)")
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"


# -- running ---------------------------------------------------------------------------------
def target_files(only_modules: list[str]) -> list[Path]:
    files: set[Path] = set()
    for pattern in TARGETS:
        files.update(p for p in ROOT.glob(pattern) if p.name != "__init__.py")
    chosen = sorted(files)
    if only_modules:
        chosen = [p for p in chosen if any(m in str(p.relative_to(ROOT)) for m in only_modules)]
    return chosen


def tests_for(path: Path, *, e2e: bool = False) -> list[str]:
    rel = path.relative_to(ROOT)
    tests: list[str] = []
    own = ROOT / "tests" / f"test_{rel.parent.name}_{rel.stem}.py"
    if own.is_file():
        tests.append(str(own.relative_to(ROOT)))
    row = next((files for pattern, files in MODULES if rel.match(pattern)), ())
    extra = [
        f for pattern, files in (E2E_TESTS if e2e else ()) if rel.match(pattern) for f in files
    ]
    tests.extend(f for f in (*row, *extra) if (ROOT / f).is_file() and f not in tests)
    if not tests:
        raise SystemExit(f"no tests mapped for {rel}: add its row to MODULES in {__file__}")
    return tests


def _drop_bytecode(path: Path) -> None:
    for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        cached.unlink(missing_ok=True)


def run_tests(tests: list[str], timeout: float) -> tuple[str, float, str]:
    """('passed' | 'failed' | 'timeout', seconds, last output line)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # This tree's sources first: a copy of the repository can be mutated while the original
    # (whose editable install the venv points at) is being worked on.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.pop("CI", None)  # the random hypothesis profile would make results noisy: pin it
    env["HYPOTHESIS_PROFILE"] = "ci"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *PYTEST, *tests],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a timeout kills sandboxes too
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", time.monotonic() - started, ""
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    lines = [line for line in out.splitlines() if line.strip()]
    status = "passed" if proc.returncode == 0 else "failed"
    failed = next((ln for ln in lines if ln.startswith(("FAILED", "ERROR"))), "")
    return status, time.monotonic() - started, failed or (lines[-1] if lines else "")


class Workspace:
    """Applies one mutant at a time; the original is kept in memory and in a backup file,
    and restored in ``restore`` (called from ``finally``)."""

    def __init__(self) -> None:
        self.current: tuple[Path, str] | None = None

    @staticmethod
    def recover() -> list[str]:
        """Put back what a run killed mid-mutant left behind."""
        restored = []
        if BACKUP.is_dir():
            for saved in BACKUP.rglob("*.py"):
                target = ROOT / saved.relative_to(BACKUP)
                shutil.copyfile(saved, target)
                _drop_bytecode(target)
                restored.append(str(target.relative_to(ROOT)))
            shutil.rmtree(BACKUP)
        return restored

    def apply(self, path: Path, source: str) -> None:
        original = path.read_text(encoding="utf-8")
        backup = BACKUP / path.relative_to(ROOT)
        backup.parent.mkdir(parents=True, exist_ok=True)
        backup.write_text(original, encoding="utf-8")
        self.current = (path, original)
        path.write_text(source, encoding="utf-8")
        _drop_bytecode(path)

    def restore(self) -> None:
        if self.current is None:
            return
        path, original = self.current
        path.write_text(original, encoding="utf-8")
        _drop_bytecode(path)
        backup = BACKUP / path.relative_to(ROOT)
        backup.unlink(missing_ok=True)
        self.current = None


def _sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def sample(
    mutants: list[Mutant], limit: int | None, seed: int, per_module: int | None = None
) -> list[Mutant]:
    rng = random.Random(seed)
    if per_module is not None:
        by_path: dict[str, list[Mutant]] = {}
        for m in mutants:
            by_path.setdefault(m.path, []).append(m)
        mutants = [
            m for group in by_path.values()
            for m in (group if len(group) <= per_module else rng.sample(group, per_module))
        ]  # fmt: skip
    if limit is None or limit >= len(mutants):
        return sorted(mutants, key=lambda m: (m.path, m.index))
    chosen = rng.sample(mutants, limit)
    return sorted(chosen, key=lambda m: (m.path, m.index))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=None, help="run a random sample of N")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument(
        "--per-module", type=int, default=None, help="at most N random mutants of each module"
    )
    parser.add_argument("--module", action="append", default=[], help="path part, e.g. phones")
    parser.add_argument("--only", action="append", default=[], help="FILE:LINE mutants only")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the mutants; run nothing")
    parser.add_argument(
        "--e2e", action="store_true", help="also run the subprocess end-to-end tests (slow)"
    )
    args = parser.parse_args(argv)

    restored = Workspace.recover()
    if restored:
        print(f"restored from an interrupted run: {', '.join(restored)}")
    everything = [m for path in target_files(args.module) for m in mutants_of(path)]
    if args.only:
        everything = [m for m in everything if m.where in args.only]
    chosen = sample(everything, args.max, args.seed, args.per_module)
    if args.list:
        for m in chosen:
            print(f"{m.where}  #{m.index}  {m.description}")
        print(f"{len(chosen)} of {len(everything)} mutants")
        return 0

    signal.signal(signal.SIGTERM, _sigterm)
    workspace = Workspace()
    results: list[dict[str, object]] = []
    baselines: dict[tuple[str, ...], float] = {}
    started = time.monotonic()
    print(f"{len(chosen)} of {len(everything)} mutants (seed {args.seed})", flush=True)
    if workspace.current is None and not args.e2e:
        print("(unit and in-process tests; --e2e adds the subprocess end-to-end files)")
    try:
        for n, mutant in enumerate(chosen, 1):
            path = ROOT / mutant.path
            tests = tests_for(path, e2e=args.e2e)
            key = tuple(tests)
            if key not in baselines:
                status, seconds, last = run_tests(tests, timeout=3600)
                if status != "passed":
                    print(f"the unmutated tests fail ({' '.join(tests)}): {last}")
                    return 2
                baselines[key] = seconds
            timeout = args.timeout or max(60.0, 3 * baselines[key])
            try:
                workspace.apply(path, mutated_source(path, mutant))
                status, seconds, last = run_tests(tests, timeout)
            finally:
                workspace.restore()
            outcome = {"passed": "survived", "failed": "killed"}.get(status, status)
            results.append({**asdict(mutant), "outcome": outcome, "seconds": round(seconds, 1),
                            "caught_by": last if outcome == "killed" else ""})  # fmt: skip
            print(
                f"[{n}/{len(chosen)}] {outcome:8} {mutant.where:48} {mutant.description}"
                + (f"   <- {last[:90]}" if outcome == "killed" else ""),
                flush=True,
            )
    except KeyboardInterrupt:
        workspace.restore()
        print("\ninterrupted: the file is restored; partial results below")
        report(results, args, time.monotonic() - started)
        return 130
    report(results, args, time.monotonic() - started)
    return 0


def package_of(path: str) -> str:
    """``src/ringodesk_cli/serve/worker.py`` -> ``serve/``; a top-level module by name."""
    parts = Path(path).relative_to("src/ringodesk_cli").parts
    return f"{parts[0]}/" if len(parts) > 1 else parts[0]


def report(results: list[dict[str, object]], args: argparse.Namespace, seconds: float) -> None:
    counts = {k: sum(1 for r in results if r["outcome"] == k) for k in ("killed", "timeout")}
    survivors = [r for r in results if r["outcome"] == "survived"]
    total = len(results)
    caught = counts["killed"] + counts["timeout"]
    score = caught / total if total else 0.0
    print(
        f"\nkilled {counts['killed']}, timeout {counts['timeout']}, survived {len(survivors)} "
        f"of {total}: score {score:.0%} ({seconds / 60:.1f} min)"
    )
    packages: dict[str, list[dict[str, object]]] = {}
    for r in results:
        packages.setdefault(package_of(str(r["path"])), []).append(r)
    print("\n| Package | Mutants | Caught | Survived | Score |\n|---|---|---|---|---|")
    for name, rows in sorted(packages.items()):
        got = sum(1 for r in rows if r["outcome"] != "survived")
        print(f"| {name} | {len(rows)} | {got} | {len(rows) - got} | {got / len(rows):.0%} |")
    for r in survivors:
        print(f"  survived: {r['path']}:{r['line']}  {r['description']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "mutants.json"
    out.write_text(
        json.dumps(
            {
                "seed": args.seed,
                "max": args.max,
                "per_module": args.per_module,
                "score": score,
                "results": results,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"details: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
