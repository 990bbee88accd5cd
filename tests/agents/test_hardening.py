"""Issue 20: no silent NaN runs, no code execution from a model file, no corrupted run folders.

One section per numbered item of the issue; each test reproduces the reported fault and fails
if it comes back. Tests that need a second process (the run-folder lock, a file-size limit)
start real ones with ``subprocess``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import errno
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.algorithms import ALGORITHMS
from agents.algorithms.ppo import PPOConfig
from agents.checkpoint import (
    CheckpointError,
    DiskWriteError,
    load_policy,
    read_checkpoint,
    restore_learner,
    save_checkpoint,
)
from agents.cli import main
from agents.loading import AgentSpecError, load_agent
from agents.training import RunFolderBusyError, read_metrics, resume, run_folder_lock, train
from agents.validation import NonFiniteError

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "env_id": "ipd_v0",
    "env_kwargs": {"max_cycles": 3},
    "num_envs": 4,
    "hidden_sizes": (8,),
    "gru_size": 8,
    "encoder": "mlp",
    "num_minibatches": 1,
    "update_epochs": 1,
}
TINY_CLI = (
    "--algo ppo --env ipd_v0 --num-envs 4 --env-arg max_cycles=3 --hidden-sizes 8 "
    "--encoder mlp --update-epochs 1 --num-minibatches 1 --no-progress"
).split()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A 2-iteration PPO run folder with checkpoints after iterations 1 and 2."""
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("runs") / "run"
    train(PPOConfig(**TINY, iterations=2, checkpoint_every=1), "ppo", run, progress=False)
    return run


@pytest.fixture
def run_copy(finished_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    return run


#: the environment of the subprocesses: one thread, this checkout first on the path
ENV = {
    **os.environ,
    **{name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")},
    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
}


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (one thread, this checkout first on the path)."""
    command = [sys.executable, "-c", textwrap.dedent(code), *args]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=timeout)


class WritesMarker:
    """Unpickling this creates ``path`` (a folder): what a malicious model file would do."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


# ---- 1. no code execution from a model file ---------------------------------------------------
def sb3_model(path: Path, **policy_kwargs) -> Path:
    from stable_baselines3 import PPO

    from agents.sb3 import SB3VecEnv

    model = PPO(
        "MlpPolicy",
        SB3VecEnv("ipd_v0", num_envs=2),
        n_steps=4,
        batch_size=8,
        seed=0,
        policy_kwargs={"net_arch": [8], **policy_kwargs},
    )
    model.save(path)
    return path


def poison_sb3_model(source: Path, target: Path, marker: Path) -> Path:
    """Copy of an SB3 zip whose pickled ``data`` entries create ``marker`` when unpickled."""
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(entries["data"])
    payload = base64.b64encode(pickle.dumps(WritesMarker(marker))).decode()
    for value in data.values():
        if isinstance(value, dict) and ":serialized:" in value:
            value[":serialized:"] = payload
    data["extra_payload"] = {":type:": "<class 'object'>", ":serialized:": payload}
    entries["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return target


@pytest.mark.parametrize("command", ["evaluate", "league", "train"])
def test_sb3_model_with_pickled_code_plays_without_running_it(tmp_path, command):
    marker, lg = tmp_path / "marker", str(tmp_path / "league")
    evil = poison_sb3_model(sb3_model(tmp_path / "ppo.zip"), tmp_path / "evil.zip", marker)
    game = "--env ipd_v0 --episodes 2 --env-arg max_cycles=3".split()
    argv = {
        "evaluate": ["evaluate", f"sb3:{evil}", "always_defect", *game],
        "league": ["league", f"sb3:{evil}", "always_defect", *game, "--quiet", "--out", lg],
        "train": ["train", *TINY_CLI, "--iterations", "1", "--opponent", f"sb3:{evil}"],
    }[command] + (["--run-dir", str(tmp_path / "run")] if command == "train" else [])
    assert main(argv) == 0  # the weights are loaded; nothing in data is unpickled
    assert not marker.exists()


def test_trust_pickle_is_what_unpickles_an_sb3_model(tmp_path):
    marker = tmp_path / "marker"
    evil = poison_sb3_model(sb3_model(tmp_path / "ppo.zip"), tmp_path / "evil.zip", marker)
    load_agent(f"sb3:{evil}", "ipd_v0")
    assert not marker.exists()
    with contextlib.suppress(Exception):  # SB3 may then fail on what it unpickled
        load_agent(f"sb3:{evil}", "ipd_v0", trust_pickle=True)
    assert marker.exists()


class CustomActivation(torch.nn.Tanh):
    """A class that is not torch's own: only unpickling can bring it back."""


def test_sb3_model_that_needs_unpickling_is_refused_with_the_reason(tmp_path, capsys):
    marker = tmp_path / "marker"
    custom = sb3_model(tmp_path / "custom.zip", activation_fn=CustomActivation)
    evil = poison_sb3_model(custom, tmp_path / "evil.zip", marker)
    with pytest.raises(AgentSpecError, match="activation_fn.*--trust-pickle"):
        load_agent(f"sb3:{evil}", "ipd_v0")
    assert main(["evaluate", f"sb3:{evil}", "random", "--env", "ipd_v0"]) == 2
    err = capsys.readouterr().err
    assert "unpickle code stored in the file" in err and "--trust-pickle" in err
    assert err.count("\n") == 1 and not marker.exists()
    trusted = load_agent(f"sb3:{custom}", "ipd_v0", trust_pickle=True)  # the opt-in works
    assert type(trusted.model.policy.mlp_extractor.policy_net[1]) is CustomActivation


def test_safe_and_trusted_sb3_loading_play_the_same(tmp_path):
    from agents.evaluation import match
    from agents.scripted import scripted_policy

    path = sb3_model(tmp_path / "ppo.zip", activation_fn=torch.nn.ReLU)
    safe = load_agent(f"sb3:{path}", "ipd_v0")
    trusted = load_agent(f"sb3:{path}", "ipd_v0", trust_pickle=True)
    tit_for_tat = scripted_policy("tit_for_tat", "ipd_v0")
    results = [
        match(p, tit_for_tat, "ipd_v0", episodes=4, seed=1, max_cycles=5).rewards
        for p in (safe, trusted)
    ]
    assert results[0] == results[1]


def test_baseline_names_cannot_leave_the_bundled_folder(run_copy):
    from agents.baselines import BASELINES_DIR

    outside = run_copy / "checkpoints" / "final"
    relative = os.path.relpath(outside, BASELINES_DIR)
    assert (BASELINES_DIR / f"{relative}.pt").is_file()  # the path resolves to a real file
    with pytest.raises(AgentSpecError, match="no bundled baseline"):
        load_agent(f"baseline:{relative}", "ipd_v0")


def test_a_pickle_with_code_in_a_checkpoint_is_refused_not_corrupt(run_copy, tmp_path, capsys):
    marker = tmp_path / "marker"
    payload = torch.load(run_copy / "checkpoints" / "final.pt", weights_only=True)
    payload["config"]["seed"] = WritesMarker(marker)
    evil = tmp_path / "evil.pt"
    torch.save(payload, evil)
    for load in (load_policy, restore_learner):
        with pytest.raises(CheckpointError, match="refused: not a plain checkpoint") as caught:
            load(evil)
        assert "weights_only=False" not in str(caught.value)
        assert "corrupt" not in str(caught.value)
    assert main(["evaluate", str(evil), "random", "--env", "ipd_v0"]) == 2
    assert "refused: not a plain checkpoint" in capsys.readouterr().err
    assert not marker.exists()


def test_torch_lower_bound_has_a_safe_weights_only_loader():
    """torch < 2.6 has a weights_only=True bypass (CVE-2025-32434): the bound excludes it."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch>=2.6"' in pyproject and "torch>=2.1" not in pyproject
    assert "torch>=2.6" in (ROOT / ".ci" / "oldest.txt").read_text().splitlines()


# ---- 2. a diverged run never looks like cooperation -------------------------------------------
def test_sampling_from_non_finite_logits_raises():
    from agents.adapters import TorchModulePolicy
    from agents.nn import CategoricalDistribution, NetworkPolicy, TanhGaussianDistribution

    nan_logits = torch.full((4, 1, 2), float("nan"))
    nan_distribution = CategoricalDistribution(nan_logits, True)
    for choose in (nan_distribution.sample, nan_distribution.mode):
        with pytest.raises(NonFiniteError, match="logits are NaN or infinite"):
            choose()
    padded = torch.tensor([[[0.0, float("-inf")]]])  # -inf alone is an absent class: fine
    assert CategoricalDistribution(padded, True).sample().tolist() == [0]
    gaussian = TanhGaussianDistribution(
        torch.full((2, 3), float("inf")), torch.zeros(3), torch.zeros(3), torch.ones(3)
    )
    with pytest.raises(NonFiniteError):
        gaussian.sample()

    learner = ALGORITHMS["ppo"][1](PPOConfig(**TINY, iterations=1))
    network = learner.agents[0].network
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.fill_(float("nan"))
    policy = NetworkPolicy(network)
    policy.reset(4, seed=0)
    with pytest.raises(NonFiniteError):
        policy.act(np.zeros((4, 5), np.float32), np.ones(4, bool))
    module = TorchModulePolicy(torch.nn.Linear(5, 2), deterministic=True)
    with torch.no_grad():
        module.module.weight.fill_(float("nan"))
    with pytest.raises(NonFiniteError, match="NaN or infinite logits"):
        module.act(np.zeros((3, 5), np.float32), np.ones(3, bool))


def test_an_agent_with_nan_logits_stops_a_match_instead_of_cooperating(tmp_path, capsys):
    factory = tmp_path / "nan_agent.py"
    factory.write_text(
        "import torch\n\n"
        "def make():\n"
        "    net = torch.nn.Linear(5, 2)\n"
        "    torch.nn.init.constant_(net.weight, float('nan'))\n"
        "    return net\n"
    )
    assert main(["evaluate", f"{factory}:make", "always_defect", "--env", "ipd_v0"]) == 1
    err = capsys.readouterr().err
    assert "returned NaN or infinite logits" in err and err.count("\n") == 1


def test_a_diverging_run_stops_naming_the_iteration_after_saving_the_last_finite_state(
    tmp_path, capsys
):
    run = tmp_path / "run"
    # a finite but absurd learning rate passes the up-front checks and then diverges
    argv = ["train", *TINY_CLI, "--iterations", "3", "--lr", "1e30", "--run-dir", str(run)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "training diverged at iteration" in err
    assert "last_finite.pt" in err
    assert not (run / "checkpoints" / "final.pt").exists()
    last = run / "checkpoints" / "last_finite.pt"
    policy = load_policy(last)  # loadable: finite weights only
    assert all(bool(torch.isfinite(p).all()) for p in policy.network.parameters())
    reported = int(err.split("diverged at iteration ")[1].split(":")[0])
    assert read_checkpoint(last)["learner"]["iteration"] == reported - 1
    metrics = read_metrics(run / "metrics.csv")
    assert metrics == {} or len(metrics["iteration"]) == reported - 1
    with pytest.raises(NonFiniteError, match="diverged at iteration"):
        train(PPOConfig(**TINY, iterations=3, lr=1e30), "ppo", tmp_path / "api", progress=False)


def test_load_policy_refuses_non_finite_weights(run_copy):
    path = run_copy / "checkpoints" / "final.pt"
    payload = torch.load(path, weights_only=True)
    network = payload["learner"]["agents"][0]["network"]
    name = next(iter(network))
    network[name] = torch.full_like(network[name], float("inf"))
    torch.save(payload, path)
    for load in (load_policy, restore_learner):
        with pytest.raises(CheckpointError, match=f"NaN or infinite weights .*network.{name}"):
            load(path)


@pytest.mark.parametrize("option", ["--max-grad-norm", "--ent-coef", "--lr", "--gamma"])
def test_non_finite_hyperparameters_are_rejected_up_front(tmp_path, capsys, option):
    run = tmp_path / "run"
    argv = ["train", *TINY_CLI, "--iterations", "1", option, "nan", "--run-dir", str(run)]
    assert main(argv) == 2
    name = option[2:].replace("-", "_")
    assert f"{name} must be a finite number, got nan" in capsys.readouterr().err
    assert not run.exists()


def _float_fields() -> list[tuple[str, str]]:
    import dataclasses
    import typing

    pairs = []
    for algo, (config_class, _) in sorted(ALGORITHMS.items()):
        hints = typing.get_type_hints(config_class)
        for field in dataclasses.fields(config_class):
            if hints[field.name] in (float, float | None):
                pairs.append((algo, field.name))
    return pairs


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(_float_fields()),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_property_non_finite_hyperparameters_never_give_a_run_that_exits_0(field, value):
    import tempfile

    algo, name = field
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        tiny = "--env ipd_v0 --num-envs 4 --iterations 1 --env-arg max_cycles=2 --hidden-sizes 4"
        argv = ["train", "--algo", algo, *tiny.split(), "--gru-size", "4", "--no-progress"]
        code = main([*argv, "--run-dir", str(run), f"--{name.replace('_', '-')}={value}"])
        assert code != 0
        assert not (run / "checkpoints" / "final.pt").exists()


# ---- 3. one run per run folder ----------------------------------------------------------------
RACER = """
import pathlib, sys, time
import matplotlib.backends.backend_agg, tqdm.auto  # imported before the start, not in the race
from agents.cli import main
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.002)
sys.exit(main(sys.argv[3:]))
"""


def test_two_processes_into_one_run_folder(tmp_path):
    run, go = tmp_path / "run", tmp_path / "go"
    # about 2 s of training: the second comer asks for the folder within milliseconds
    argv = ["train", *TINY_CLI, *"--iterations 40 --checkpoint-every 20".split()]
    argv += ["--run-dir", str(run)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path / f"ready{k}"), str(go), *argv],
            **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "env": ENV},
        )
        for k in range(2)
    ]
    try:
        while not all((tmp_path / f"ready{k}").exists() for k in range(2)):
            assert all(racer.poll() is None for racer in racers), racers[0].communicate()
            time.sleep(0.01)
        go.touch()  # both are imported and released together: they race for the folder
        outcomes = [(racer.wait(timeout=120), racer.communicate()[1]) for racer in racers]
    finally:
        for racer in racers:
            racer.kill()
    assert sorted(code for code, _ in outcomes) == [0, 2], outcomes
    loser = next(err for code, err in outcomes if code == 2)
    assert "is in use by another training run" in loser and loser.count("\n") == 1
    lines = (run / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("iteration,") and sum(line == lines[0] for line in lines) == 1
    assert read_metrics(run / "metrics.csv")["iteration"] == [float(i) for i in range(1, 41)]
    assert restore_learner(run / "checkpoints" / "final.pt").iteration == 40


def test_resume_takes_the_lock_too_and_the_lock_is_released(run_copy):
    final = run_copy / "checkpoints" / "final.pt"
    with run_folder_lock(run_copy), run_folder_lock(run_copy):  # re-entrant in one process
        # this process trains into the folder, so another one may not resume into it
        command = "import sys; from agents.cli import main; sys.exit(main(sys.argv[1:]))"
        argv = ["train", "--resume", str(final), *"--iterations 3 --no-progress".split()]
        result = run_python(command, *argv)
    assert result.returncode == 2, result.stderr
    assert f"run folder {run_copy} is in use by another training run (pid" in result.stderr
    assert read_metrics(run_copy / "metrics.csv")["iteration"] == [1.0, 2.0]
    assert issubclass(RunFolderBusyError, FileExistsError)
    # released: a new lock on the folder (another open file, so flock would refuse it if the
    # old one were still held) lets the resume through
    assert resume(final, iterations=3, progress=False).iteration == 3


# ---- 4. a torn metrics.csv tail never breaks a resume -----------------------------------------
@pytest.mark.parametrize("tail", ["3.0,-1.25,", "\n\n", "\r\n3.0"])
def test_resume_repairs_a_torn_metrics_tail(run_copy, tail):
    metrics_path = run_copy / "metrics.csv"
    whole = metrics_path.read_bytes()
    with metrics_path.open("ab") as file:
        file.write(tail.encode())
    resume(run_copy / "checkpoints" / "final.pt", iterations=4, progress=False)
    data = metrics_path.read_bytes()
    assert data.startswith(whole) and data.endswith(b"\n")
    rows = [line.split(",") for line in data.decode().splitlines()]
    assert {len(row) for row in rows} == {len(rows[0])}
    assert read_metrics(metrics_path)["iteration"] == [1.0, 2.0, 3.0, 4.0]
    assert (run_copy / "learning_curves.png").stat().st_size > 0


# ---- 5. a full or read-only disk --------------------------------------------------------------
FILE_SIZE_LIMIT = """
import json, resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit, write() fails with EFBIG
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from agents.checkpoint import DiskWriteError
from agents.cli import main
from agents.training import _MetricsWriter
report = {}
writer = _MetricsWriter(Path(sys.argv[2]))
try:
    for i in range(10000):
        writer.write({"iteration": float(i + 1), "reward_0": 0.123456789 * i})
except DiskWriteError as error:
    report["metrics_error"] = str(error)
writer.close()
report["train_code"] = main(sys.argv[3:])
print(json.dumps(report))
"""


def test_full_disk_names_the_file_keeps_rows_whole_and_leaves_no_partial_file(tmp_path):
    run, metrics = tmp_path / "run", tmp_path / "metrics.csv"
    argv = ["train", *TINY_CLI, *"--iterations 2 --checkpoint-every 1".split()]
    result = run_python(FILE_SIZE_LIMIT, "4000", str(metrics), *argv, "--run-dir", str(run))
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["metrics_error"] == f"file too large writing {metrics}"
    text = metrics.read_text()
    assert 3000 < len(text) <= 4000 and text.endswith("\n")  # cut back to the last whole row
    assert read_metrics(metrics)["iteration"][-1] == len(text.splitlines()) - 1
    assert report["train_code"] == 1
    assert f"file too large writing {run / 'checkpoints' / 'iter_000001.pt'}" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not list(run.rglob("*.partial"))


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "no space left on device"), (errno.EROFS, "read-only file system")],
)
def test_disk_errors_are_said_in_words_and_keep_the_previous_file(
    run_copy, monkeypatch, code, words
):
    learner = restore_learner(run_copy / "checkpoints" / "final.pt")
    target = run_copy / "checkpoints" / "final.pt"
    before = target.read_bytes()

    def failing_disk(descriptor):  # the disk reports the failure when the data is flushed
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("agents.checkpoint.os.fsync", failing_disk)
    with pytest.raises(DiskWriteError) as caught:
        save_checkpoint(learner, target)
    assert str(caught.value) == f"{words} writing {target}"
    assert caught.value.errno == code
    assert target.read_bytes() == before and not list(run_copy.rglob("*.partial"))


def test_league_checks_outputs_and_metric_before_the_first_match(tmp_path, monkeypatch, capsys):
    played = []
    monkeypatch.setattr("agents.evaluation.league", lambda *a, **k: played.append(1))
    monkeypatch.setattr("agents.evaluation.match", lambda *a, **k: played.append(1))
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    common = ["random", "always_defect", "--env", "ipd_v0"]
    cases = [
        (["league", *common, "--out", str(blocker / "out")], "--out"),
        (
            ["league", *common, "--out", str(tmp_path / "ok"), "--metric", "cooperation"],
            "--metric 'cooperation' is not a metric of ipd_v0",
        ),
        (["evaluate", *common, "--json", str(blocker / "m.json")], "--json"),
        (["evaluate", *common, "--json", str(tmp_path)], "is a folder"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert played == []


# ---- 7. malformed checkpoints -----------------------------------------------------------------
MALFORMED = {
    "learner={}": lambda p: p.update(learner={}),
    "spaces=None": lambda p: p.update(spaces=None),
    "config=None": lambda p: p.update(config=None),
    "agents=[]": lambda p: p["learner"].update(agents=[]),
    "agent=5": lambda p: p["learner"].update(agents=[5]),
    "seats=[3]": lambda p: p["learner"]["agents"][0].update(seats=[3]),
    "network=None": lambda p: p["learner"]["agents"][0].update(network=None),
    "network of ints": lambda p: p["learner"]["agents"][0].update(network={"w": 1}),
    "iteration=-1": lambda p: p["learner"].update(iteration=-1),
    "optimizer=7": lambda p: p["learner"]["agents"][0].update(optimizer=7),
    "algorithm=None": lambda p: p.update(algorithm=None),
}


@pytest.mark.parametrize("edit", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_checkpoints_raise_checkpoint_error(run_copy, edit, capsys):
    path = run_copy / "checkpoints" / "final.pt"
    payload = copy.deepcopy(torch.load(path, weights_only=True))
    edit(payload)
    torch.save(payload, path)
    for load in (load_policy, restore_learner):
        with pytest.raises(CheckpointError, match=str(path)):
            load(path)
    assert main(["evaluate", str(path), "random", "--env", "ipd_v0"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and err.count("\n") == 1


# ---- 8. the smaller ones: one line naming the argument, exit code 2 ---------------------------
def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_small_mistakes_are_one_line_errors_with_exit_code_2(tmp_path, run_copy, capsys):
    broken = write(tmp_path / "broken.py", "def make(:\n")
    raising = write(tmp_path / "raising.py", "def make():\n    raise RuntimeError('no weights')\n")
    ipd_model = sb3_model(tmp_path / "ipd.zip")
    config, final = run_copy / "config.json", run_copy / "checkpoints" / "final.pt"
    config_before = config.read_bytes()
    run = str(tmp_path / "r")
    cases = [
        (["train", *TINY_CLI, "--env-arg", "max_cycle=5", "--run-dir", run], "max_cycle"),
        (["train", *TINY_CLI, "--hidden-sizes", "-3", "--run-dir", run], "hidden_sizes"),
        (["train", *TINY_CLI, "--hidden-sizes", "0", "--run-dir", run], "hidden_sizes"),
        (["train", *TINY_CLI, "--seed", str(2**70), "--run-dir", run], "seed must be in"),
        (["evaluate", f"{broken}:make", "random", "--env", "ipd_v0"], "SyntaxError"),
        (
            ["evaluate", f"{raising}:make", "random", "--env", "ipd_v0"],
            "factory 'make' raised RuntimeError: no weights",
        ),
        (
            ["train", "--resume", str(final), "--iterations", "1", "--no-progress"],
            "iterations must be at least the checkpoint's iteration 2",
        ),
        (
            ["evaluate", f"sb3:{ipd_model}", "random", "--env", "coin_game_v0"],
            "trained with observation space Box(shape=[5])",
        ),
        (["evaluate", "random", "random", "--env", "ipd_v0", "--seed", str(2**70)], "--seed"),
        (
            [
                "evaluate",
                "random",
                "random",
                "--env",
                "ipd_v0",
                "--env-arg",
                f"max_cycles={10**30}",
            ],
            "max_cycles must be at most",
        ),
        (
            ["train", *TINY_CLI, "--env", "matrix_game_v0", "--run-dir", run, "--env-arg"]
            + ["payoffs=[[[true, 0], [0, 0]], [[0, 0], [0, 0]]]"],
            "table of real numbers",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    assert config.read_bytes() == config_before  # the refused resume rewrote nothing
    assert not Path(run).exists()
