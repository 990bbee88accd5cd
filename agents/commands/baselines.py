"""``socialdilemmas baselines``: the trained agents shipped with the package, as a table.

Each row is one ``baseline:NAME`` agent spec (usable wherever an agent is asked for: evaluate,
league, train --opponent, ``agents.loading.load_agent``): its game, algorithm, the run it was
exported from, and how it plays (self-play reward per step; against always-defect, what it
gets and what always-defect gets). Reads only the package's catalog, so it works without torch.
"""

from __future__ import annotations

import argparse
import json

from agents.baselines import catalog

HELP = "list the trained agents shipped with the package (agent spec baseline:NAME)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` prints the catalog itself."""
    parser.add_argument("--json", action="store_true", help="print the catalog as JSON")


def table(entries: dict[str, dict]) -> str:
    """The catalog as an aligned text table, one baseline per line."""
    header = ("agent spec", "game", "algorithm", "self-play", "vs AD (AD gets)", "trained")
    rows = [header]
    for name, entry in entries.items():
        measured = entry["measured"]
        game = entry["env_id"] + "".join(
            f" {key}={json.dumps(value)}" for key, value in entry["env_kwargs"].items()
        )
        rows.append(
            (
                f"baseline:{name}",
                game,
                entry["algorithm"],
                f"{measured['self_play']:.3f}",
                f"{measured['vs_always_defect']:.3f} ({measured['always_defect_gets']:.3f})",
                entry["trained"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]
    episodes = {entry["measured"]["episodes"] for entry in entries.values()}
    lines.append(
        f"\nrewards per step, {'/'.join(map(str, sorted(episodes)))} episodes per match, seed 0; "
        "play one with e.g. 'socialdilemmas evaluate baseline:aa_ipd tit_for_tat --env ipd_v0'"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the catalog."""
    entries = catalog()
    print(json.dumps(entries, indent=2) if args.json else table(entries))
    return 0
