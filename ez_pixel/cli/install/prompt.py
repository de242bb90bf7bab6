"""The installer's questions: which kinds to wire, and whether to apply the changes.

Without a terminal (or with ``--yes``) nothing is asked: the most likely answer
is taken and said.
"""

import argparse
from typing import List, Optional, TextIO

from ..common import EXIT_USAGE, CliError
from .detect import Candidate, Detection


def _ask(question: str, stdin: TextIO) -> Optional[str]:
    """One answer from the terminal, or None at end of input."""
    print(question, end="", flush=True)
    line = stdin.readline()
    return line.strip() if line else None


def choose(detection: Detection, args: argparse.Namespace, stdin: TextIO) -> List[Candidate]:
    """The kinds to wire: ``--kind``, the only one found, or a choice among several."""
    if args.kind:
        found = {c.kind: c for c in detection.candidates}
        missing = [kind for kind in args.kind if kind not in found]
        if missing:
            have = ", ".join(c.kind for c in detection.candidates) or "nothing"
            raise CliError(f"--kind {missing[0]}: not found here (found: {have})", EXIT_USAGE)
        return [found[kind] for kind in dict.fromkeys(args.kind)]
    frameworks = detection.frameworks
    if len(frameworks) <= 1:
        return frameworks or detection.candidates[:1]
    best = frameworks[0]
    also = f"--kind {' --kind '.join(c.kind for c in frameworks)} wires all of them"
    if args.yes or not stdin.isatty():
        why = "--yes" if args.yes else "no terminal to ask"
        print(f"Several kinds found; {why}: wiring {best.label}, the most likely ({also}).")
        return [best]
    print("Several kinds found. Which should ez-pixel wire?")
    for number, candidate in enumerate(frameworks, 1):
        print(f"  {number}) {candidate.label}")
    print(f"  {len(frameworks) + 1}) all of them")
    for _ in range(3):
        answer = _ask(f"Choice [1-{len(frameworks) + 1}, default 1]: ", stdin)
        if answer is None or answer == "":
            break
        if answer.isdigit() and 1 <= int(answer) <= len(frameworks) + 1:
            number = int(answer)
            return frameworks if number > len(frameworks) else [frameworks[number - 1]]
        print(f"  please answer a number from 1 to {len(frameworks) + 1}")
    print(f"Wiring {best.label}, the most likely.")
    return [best]


def confirm(args: argparse.Namespace, stdin: TextIO) -> bool:
    """True when the changes may be written: ``--yes``, no terminal, or the user agreed."""
    if args.yes or not stdin.isatty():
        return True
    answer = _ask("Apply these changes? [Y/n] ", stdin)
    return answer is not None and answer.lower() in ("", "y", "yes")
