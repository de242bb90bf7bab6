"""``ez-pixel install [PATH]``: add ez-pixel to a project, wire it in, and prove it works.

Finds the project's packaging and kind, adds the dependency, wires the
smallest correct integration, gets a project key (``--project-key``, the one
``PATH/.env`` already has, or a new one registered with the server), writes it
to ``PATH/.env``, then sends a test event through the real SDK. Every edit is
shown as a unified diff; ``--dry-run`` shows them and writes nothing. Running
it again changes nothing. The pieces live beside it in :mod:`ez_pixel.cli.install`.
"""

import argparse
import sys
from typing import TYPE_CHECKING, List, Optional, Tuple

from ez_pixel.options import ENV_INGEST_URL, make_options

from ..common import EXIT_USAGE, CliError
from ..config import ENV_EZCODER_KEY, ENV_FILE, HOSTED_INGEST_URL, LOCAL_INGEST_URL
from ..probe import run_probe
from .depedit import add_dependency
from .deps import PACKAGE, Packaging, Requirement, find_packaging, normalize
from .detect import KINDS, Candidate, Detection, Sources, detect
from .djangolog import wire_django_logging
from .files import Change, InstallError, Pending, Project, write_change
from .identity import Identity, find_identity, record
from .identity import register as register_identity
from .keys import env_change, env_settings, gitignore_step
from .lifespan import wire_lifespan
from .prompt import choose, confirm
from .wiring import Step, init_block, wire_init, wire_structlog

if TYPE_CHECKING:
    from ..common import Subparsers

PLACEHOLDER_KEY = "<key from the server>"
DESCRIPTION = """\
Add ez-pixel to the project at PATH: find its packaging and its kind (Django,
Flask, FastAPI/Starlette, Celery, or a plain entry point), add the dependency,
wire the smallest correct integration, and join the ezcoder loop as the
ezcoder installer does: reuse the project this folder already has (its key in
PATH/.env, its id and secret in ~/.ezcoder/projects.json) or register a new one
with the server (POST /api/projects), write the key to PATH/.env as
EZCODER_PIXEL_KEY, record the project in ~/.ezcoder/projects.json, and verify
with a probe event that is found in the project's error list and deleted.

Every change is shown as a unified diff; --dry-run writes nothing. Running it
again changes nothing. Exit status: 0 done and verified, 1 something is left
for you (marked !) or the probe failed, 2 bad arguments."""
_WHY = {
    "flask": "Flask app module",
    "fastapi": "FastAPI/Starlette app module",
    "celery": "Celery app module",
    "plain": "entry point",
    "django": "Django, once it has configured logging",
}


def register(subparsers: "Subparsers") -> None:
    """Add the ``install`` subcommand."""
    parser = subparsers.add_parser(
        "install",
        help="add ez-pixel to a project: dependency, wiring, key, test event",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", default=".", help="the project (default: .)")
    parser.add_argument(
        "--ingest-url",
        help=f"where events go (default: {ENV_INGEST_URL} in PATH/.env; else, with a key "
        f"in PATH/.env, the hosted server; else ez-pixel serve's {LOCAL_INGEST_URL})",
    )
    parser.add_argument(
        "--project-key",
        help="use this key instead of registering the project with the server",
    )
    parser.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        help="wire this kind (repeatable) instead of asking when several are found",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print every change as a diff; write nothing"
    )
    parser.add_argument(
        "--yes", "-y", action="store_true", help="do not ask: take the most likely answers"
    )
    parser.set_defaults(run=run_install)


# -- planning ------------------------------------------------------------------------


def _wire(pending: Pending, candidate: Candidate) -> List[Step]:
    steps: List[Step] = []
    if candidate.kind == "django":
        if candidate.settings is None:
            steps.append(Step("Django settings module not found: LOGGING left alone", manual=True))
        else:
            steps.append(wire_django_logging(pending, candidate.settings))
        targets = candidate.targets
        if not targets:
            steps.append(Step("no wsgi.py/asgi.py found: call ez_pixel.init_pixel()", manual=True))
    else:
        targets = candidate.targets[:1] if candidate.kind != "plain" else candidate.targets
    for rel in targets:
        steps.append(wire_init(pending, rel, _WHY[candidate.kind], candidate.kind == "django"))
        if candidate.kind == "fastapi":
            steps.append(wire_lifespan(pending, rel))
    return steps


def _plan(
    project: Project,
    packaging: Packaging,
    requirement: Requirement,
    chosen: List[Candidate],
    structlog_modules: List[str],
) -> Tuple[Pending, List[Step]]:
    """Every code and config change (not ``.env``): the dependency, the wiring, .gitignore."""
    pending = Pending(project)
    dependency = add_dependency(project, packaging, requirement)
    if dependency.change is not None:
        pending.text(dependency.change.rel)
        pending.update(dependency.change.rel, dependency.change.new, dependency.message)
        if packaging.lock_hint:
            dependency.message += f"; {packaging.lock_hint}"
    steps = [Step(dependency.message, dependency.change is not None, dependency.manual)]
    for candidate in chosen:
        steps.extend(_wire(pending, candidate))
    if not chosen:
        message = "nothing to wire found: call ez_pixel.init_pixel() where your program starts"
        steps.append(Step(message, manual=True, snippet="\n".join(init_block())))
    for rel in dict.fromkeys(structlog_modules):
        steps.append(wire_structlog(pending, rel))
    gitignore = gitignore_step(pending)
    if gitignore is not None:
        steps.append(gitignore)
    return pending, steps


def _structlog_reasons(detection: Detection, packaging: Packaging) -> List[str]:
    reasons = list(detection.structlog[:3])
    if "structlog" in packaging.names:
        reasons.append("structlog is a dependency")
    return reasons


def _describe_found(packaging: Packaging, detection: Detection, structlog: List[str]) -> None:
    print("Found:")
    print(f"  packaging: {packaging.label}")
    for candidate in detection.candidates:
        print(f"  {candidate.label}: {'; '.join(candidate.reasons)}")
    if not detection.candidates:
        print("  no framework and no entry point (console script, __main__.py, script)")
    if structlog:
        print(f"  structlog: {'; '.join(structlog)}")


def _print_changes(changes: List[Change]) -> None:
    for change in changes:
        print()
        sys.stdout.write(change.diff())
    sys.stdout.flush()


# -- running -------------------------------------------------------------------------


def run_install(args: argparse.Namespace) -> int:
    """Install ez-pixel into ``args.path``; 0 when done and verified, 1 when something is left."""
    stdin = sys.stdin
    try:
        project = Project(args.path)
    except InstallError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    dry = args.dry_run
    packaging = find_packaging(project)
    if normalize(packaging.project_name or "") == PACKAGE:
        raise CliError(f"{project.root} is ez-pixel itself: nothing to install", EXIT_USAGE)
    name = packaging.project_name or project.root.name
    identity = find_identity(project, name, args.project_key, args.ingest_url)
    print(f"ez-pixel install: {project.root}" + (" (dry run: nothing is written)" if dry else ""))
    sources = Sources(project)
    detection = detect(project, sources, packaging.scripts)
    structlog = _structlog_reasons(detection, packaging)
    _describe_found(packaging, detection, structlog)
    notes = packaging.notes + sources.notes + detection.problems
    chosen = choose(detection, args, stdin)
    requirement = Requirement(extras=("structlog",) if structlog else ())
    pending, steps = _plan(project, packaging, requirement, chosen, detection.structlog_modules)
    env_plan, env_notes = env_change(
        project, env_settings(identity.key or PLACEHOLDER_KEY, identity.url)
    )
    steps.extend(env_notes)
    steps.extend(identity.notes)
    if env_plan is not None:
        steps.extend(Step(reason, changed=True) for reason in env_plan.reasons)
    changes = pending.changes() + ([env_plan] if env_plan else [])
    _report_steps(steps, notes)
    _describe_key(identity, dry)
    if not changes:
        print("\nNothing to change: ez-pixel is already installed here.")
    else:
        print(f"\n{'Would change' if dry else 'Changes'}:")
        _print_changes(changes)
        if not identity.key and env_plan is not None:
            print(f"({PLACEHOLDER_KEY} is the key the server answers with.)")
    manual = [step for step in steps if step.manual]
    if dry:
        print(f"\nDry run: nothing was written; then a probe would be sent to {identity.url}.")
        return 0
    if changes and not confirm(args, stdin):
        print("Nothing was changed.")
        return 1
    if not identity.key:
        changes = _register(project, identity, changes, env_plan)
    _write(project, changes)
    if changes:
        print(f"\nWrote {len(changes)} file{'s' if len(changes) != 1 else ''}.")
    for line in record(identity, str(project.root)):
        print(line)
    ok = _verify(identity)
    _next_steps(requirement, manual, identity)
    return 0 if ok and not manual else 1


def _describe_key(identity: Identity, dry: bool) -> None:
    if identity.key:
        print(f"Key: {identity.key[:12]}… from {identity.key_from}")
        return
    verb = "would register" if dry else "will register"
    print(f"Key: {verb} project {identity.name!r} with {identity.server} (POST /api/projects)")


def _register(
    project: Project, identity: Identity, changes: List[Change], env_plan: Optional[Change]
) -> List[Change]:
    register_identity(identity)
    print(f"\nRegistered project {identity.name!r} (id {identity.project_id})")
    print(f"  project key: {identity.key} (written to {ENV_FILE} as {ENV_EZCODER_KEY})")
    final, _ = env_change(project, env_settings(identity.key, identity.url))
    kept = [change for change in changes if change is not env_plan]
    if final is not None:
        sys.stdout.write("\n" + final.diff())
        kept.append(final)
    return kept


def _write(project: Project, changes: List[Change]) -> None:
    """Write every change; stop at the first failure, saying what was written before it."""
    for done, change in enumerate(changes):
        try:
            write_change(project, change)
        except (OSError, InstallError) as exc:
            written = ", ".join(c.rel for c in changes[:done]) or "nothing"
            reason = getattr(exc, "strerror", None) or exc
            message = f"cannot write {change.rel} ({reason}); written before it: {written}"
            raise CliError(message) from None


def _verify(identity: Identity) -> bool:
    print(f"\nVerify: sending a probe event to {identity.url} through the SDK")
    try:
        options = make_options(identity.key, identity.url)
    except ValueError as exc:
        print(f"  FAILED: {exc}")
        return False
    result = run_probe(options, identity.server, identity.project_id, identity.secret)
    for line in result.lines:
        print(f"  {line}")
    print(f"  {'ok' if result.ok else 'FAILED'}")
    return result.ok


def _report_steps(steps: List[Step], notes: List[str]) -> None:
    print("Plan:")
    for step in steps:
        print(f"  {step.mark} {step.message}")
        if step.manual and step.snippet:
            for line in step.snippet.splitlines():
                print(f"      {line}")
    for note in dict.fromkeys(notes):
        print(f"  ! {note}")


def _next_steps(requirement: Requirement, manual: List[Step], identity: Identity) -> None:
    print("\nNext:")
    print(f"  - install it: pip install '{requirement.pep508()}' (or your tool's sync)")
    print(
        f"  - start the app as usual: init_pixel() reads {ENV_EZCODER_KEY}"
        + (f" and {ENV_INGEST_URL}" if identity.url != HOSTED_INGEST_URL else "")
        + f" from {ENV_FILE} when the environment does not set them; elsewhere (CI, "
        "production) set them in the environment, and without a key the app runs unreported"
    )
    if identity.project_id and identity.secret:
        print(
            "  - the ezcoder tools find the project through ~/.ezcoder/projects.json; "
            f"`ez-pixel send-test` in {ENV_FILE}'s folder shows a test error"
        )
    if manual:
        print(f"  - {len(manual)} step(s) marked ! above could not be done safely: they are yours")
