"""The ``evaluate`` and ``league`` commands, run through ``agents.cli.main``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap

import pytest

from agents.cli import COMMANDS, main


def test_commands_are_registered_with_their_modules_help_line():
    import importlib

    assert COMMANDS["evaluate"].module == "agents.commands.evaluate"
    assert COMMANDS["league"].module == "agents.commands.league"
    for command in COMMANDS.values():
        assert importlib.import_module(command.module).HELP == command.help


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["--help"], "baselines"),
        (["evaluate", "--help"], "--episodes"),
        (["league", "--help"], "--seed-groups"),
    ],
)
def test_help_imports_no_torch(argv, shown):
    """The top level's and evaluate/league's help stay instant with torch installed."""
    code = (
        "import sys\n"
        "from agents.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as stop:\n    assert stop.code == 0\n"
        "heavy = sorted({'torch', 'numba', 'agents.commands.train'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout


def test_evaluate_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "match.json"
    code = main(
        [
            "evaluate",
            "tit_for_tat",
            "always_defect",
            "--env",
            "ipd_v0",
            "--episodes",
            "2",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "-2.0200" in printed and "-1.9600" in printed and "p_cooperate|start" in printed
    data = json.loads(out.read_text())
    assert data["rewards"] == [pytest.approx(-2.02), pytest.approx(-1.96)]
    assert data["names"] == ["tit_for_tat", "always_defect"]


def test_evaluate_passes_env_arguments(capsys):
    main(
        [
            "evaluate",
            "always_cooperate",
            "always_defect",
            "--env",
            "ipd_v0",
            "--episodes",
            "1",
            "--env-arg",
            "max_cycles=4",
            "--env-arg",
            'payoffs="ipd_3051"',
            "--both-seats",
        ]
    )
    printed = capsys.readouterr().out
    assert "1 episodes x 4 steps" in printed and "both seat orders" in printed


def test_league_writes_csv_json_and_png(tmp_path, monkeypatch, capsys):
    (tmp_path / "mine.py").write_text(
        textwrap.dedent("""
        import numpy as np

        def make(action_space):
            return lambda obs: np.zeros(len(obs), dtype=np.int64)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "league"
    code = main(
        [
            "league",
            "always_cooperate",
            "always_defect",
            "tft=tit_for_tat",
            "mine:make",
            "--env",
            "ipd_v0",
            "--episodes",
            "2",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    sys.modules.pop("mine", None)
    assert code == 0
    with (out / "league.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["agent", "always_cooperate", "always_defect", "tft", "make"]
    assert float(rows[3][2]) == pytest.approx(-2.02)  # tft against always_defect
    data = json.loads((out / "league.json").read_text())
    assert set(data["metrics"]) >= {"cooperation_rate", "p_cooperate|CC"}
    assert (out / "league.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in capsys.readouterr().out


def test_league_duplicate_specs_get_distinct_names(tmp_path):
    out = tmp_path / "dup"
    main(
        [
            "league",
            "random",
            "random",
            "--env",
            "ipd_v0",
            "--episodes",
            "1",
            "--out",
            str(out),
            "--metric",
            "cooperation_rate",
            "--quiet",
            "--env-arg",
            "max_cycles=3",
        ]
    )
    header = (out / "league.csv").read_text().splitlines()[0]
    assert header == "agent,random,random_2"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "nope", "always_defect", "--env", "ipd_v0"], "unknown agent 'nope'"),
        (["evaluate", "random", "random", "--env", "ipd_v9"], "unknown env 'ipd_v9'"),
        (
            ["league", "random", "--env", "ipd_v0", "--out", "x", "--env-arg", "max_cycles"],
            "KEY=VALUE",
        ),
        (
            ["evaluate", "random", "random", "--env", "ipd_v0", "--env-arg", 'payoffs="chess"'],
            "prisoner's-dilemma presets",
        ),
        (
            [
                "evaluate",
                "random",
                "random",
                "--env",
                "ipd_v0",
                "--episodes",
                "5",
                "--num-envs",
                "2",
            ],
            "positive divisor of --episodes",
        ),
        (["league", "random", "--env", "ipd_v0", "--out", "x", "--episodes", "0"], "at least 1"),
    ],
)
def test_bad_input_exits_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["evaluate", "league"])
def test_help_lists_the_agent_forms_and_the_defaults(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "baseline:NAME" in out and "socialdilemmas baselines" in out
    assert "(default: 32)" in out  # --episodes
