"""The training loop: iterations, a progress bar, and a run folder you can resume from.

Python::

    from agents.algorithms.ppo import PPOConfig
    from agents.training import train, resume

    learner = train(PPOConfig(env_id="ipd_v0", num_envs=256, iterations=100), "ppo",
                    run_dir="runs/ppo_ipd")
    learner = resume("runs/ppo_ipd/checkpoints/final.pt", iterations=200)

A run folder holds:

* ``config.json``: the algorithm name and every config field;
* ``metrics.csv``: one row per iteration (mean reward per step of each seat, the game's
  headline metric, loss terms, environment steps, seconds);
* ``checkpoints/``: ``iter_000050.pt`` every ``checkpoint_every`` iterations and ``final.pt``
  (``interrupted.pt`` after Ctrl-C); with ``stop_reward`` set, ``final.pt`` is the iteration
  whose mean reward first exceeded it (resuming from it trains on);
* ``learning_curves.png``: rewards, game metric and losses against iterations.

:func:`resume` continues from any of those checkpoints: the networks, optimizers and iteration
come back, and since every random draw is derived from ``(seed, iteration)``, a resumed run
produces the same numbers as one that was never interrupted.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from pathlib import Path

import torch

from agents.algorithms import Learner, LearnerConfig, get_algorithm
from agents.checkpoint import algorithm_name, restore_learner, save_checkpoint
from agents.policy import Policy

#: metrics shown in the progress bar when present
PROGRESS_METRICS = (
    "reward_0", "reward_1", "cooperation_rate", "own_coin_share", "welfare_share", "entropy"
)


def default_run_dir(algorithm: str, config: LearnerConfig) -> Path:
    """``runs/<algorithm>_<env>_s<seed>_<date-time>`` under the working directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{algorithm}_{config.env_id}_s{config.seed}_{stamp}"


def train(
    config: LearnerConfig,
    algorithm: str,
    run_dir: str | os.PathLike | None = None,
    progress: bool = True,
    opponent: Policy | None = None,
) -> Learner:
    """Train ``algorithm`` with ``config`` from scratch, writing a run folder; returns the learner.

    Args:
        config: the algorithm's config (``get_algorithm(algorithm)[0]``).
        algorithm: a key of :data:`agents.algorithms.ALGORITHMS`.
        run_dir: where to write (default :func:`default_run_dir`); must not hold a run already.
        progress: show a tqdm progress bar with live metrics.
        opponent: a fixed policy in seat 1 (only seat 0 learns); pass it again to resume.

    """
    config_class, learner_class = get_algorithm(algorithm)
    if type(config) is not config_class:
        raise TypeError(
            f"algorithm {algorithm!r} takes a {config_class.__name__}, got {type(config).__name__}"
        )
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(algorithm, config)
    if (run_dir / "metrics.csv").exists():
        raise FileExistsError(
            f"{run_dir} already holds a run; pick another run_dir or resume from its checkpoints"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(config.torch_threads)
    learner = learner_class(config, opponent)
    _write_config(run_dir, algorithm, config)
    return run_loop(learner, run_dir, progress)


def _write_config(run_dir: Path, algorithm: str, config: LearnerConfig) -> None:
    text = json.dumps({"algorithm": algorithm, "config": config.to_dict()}, indent=2)
    (run_dir / "config.json").write_text(text + "\n")


def resume(
    checkpoint: str | os.PathLike,
    run_dir: str | os.PathLike | None = None,
    iterations: int | None = None,
    progress: bool = True,
    opponent: Policy | None = None,
) -> Learner:
    """Continue the run saved in ``checkpoint`` up to its (or a new) number of iterations.

    Args:
        checkpoint: a file from a run folder's ``checkpoints/``.
        run_dir: where to keep writing (default: the run folder the checkpoint lies in).
            ``metrics.csv`` rows after the checkpoint's iteration are dropped, so the file reads
            as one uninterrupted run.
        iterations: train up to this many iterations instead of the saved config's.
        progress: show a progress bar.
        opponent: the fixed seat-1 opponent, for a run that was trained against one.

    """
    checkpoint = Path(checkpoint)
    overrides = {} if iterations is None else {"iterations": int(iterations)}
    learner = restore_learner(checkpoint, opponent=opponent, **overrides)
    if run_dir is None:
        run_dir = checkpoint.parent.parent
        if not (run_dir / "config.json").exists():
            raise FileNotFoundError(
                f"{checkpoint} is not inside a run folder; give run_dir to write the resumed run"
            )
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_config(run_dir, algorithm_name(learner), learner.config)
    _truncate_metrics(run_dir / "metrics.csv", learner.iteration)
    torch.set_num_threads(learner.config.torch_threads)
    return run_loop(learner, run_dir, progress)


def run_loop(learner: Learner, run_dir: Path, progress: bool = True) -> Learner:
    """Iterate ``learner`` up to ``config.iterations``, logging and checkpointing in ``run_dir``."""
    from tqdm.auto import tqdm

    config = learner.config
    learner.run_dir = run_dir
    checkpoints = run_dir / "checkpoints"
    metrics_path = run_dir / "metrics.csv"
    steps_per_iteration = config.num_envs * learner.env.max_cycles
    bar = tqdm(
        total=config.iterations, initial=learner.iteration, disable=not progress,
        desc=f"{algorithm_name(learner)} {config.env_id}", unit="it", dynamic_ncols=True,
    )
    writer = _MetricsWriter(metrics_path)
    try:
        while learner.iteration < config.iterations:
            start = time.perf_counter()
            metrics = learner.train_iteration()
            seconds = time.perf_counter() - start
            metrics["env_steps"] = float(learner.iteration * steps_per_iteration)
            metrics["seconds"] = seconds
            writer.write(metrics)
            bar.set_postfix(
                {k: f"{metrics[k]:.3g}" for k in PROGRESS_METRICS if k in metrics}
                | {"steps/s": f"{steps_per_iteration / seconds:.3g}"},
                refresh=False,
            )
            bar.update(1)
            if config.checkpoint_every and learner.iteration % config.checkpoint_every == 0:
                save_checkpoint(learner, checkpoints / f"iter_{learner.iteration:06d}.pt")
            reward = learned_reward(learner, metrics)
            if config.stop_reward is not None and reward > config.stop_reward:
                bar.write(
                    f"stopping at iteration {learner.iteration}: mean reward per step "
                    f"{reward:.4g} > stop_reward {config.stop_reward}"
                )
                break
    except KeyboardInterrupt:
        save_checkpoint(learner, checkpoints / "interrupted.pt")
        raise
    finally:
        bar.close()
        writer.close()
    save_checkpoint(learner, checkpoints / "final.pt")
    plot_learning_curves(metrics_path, run_dir / "learning_curves.png")
    return learner


def learned_reward(learner: Learner, metrics: dict[str, float]) -> float:
    """Mean reward per step of the seats ``learner`` trains in an iteration's ``metrics``.

    Both seats, or seat 0 alone against a fixed opponent: what ``stop_reward`` is compared with.
    """
    if learner.opponent is not None:
        return metrics["reward_0"]
    return 0.5 * (metrics["reward_0"] + metrics["reward_1"])


class _MetricsWriter:
    """Appends rows to ``metrics.csv``, keeping the columns of an existing file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.columns: list[str] | None = None
        if path.exists() and path.stat().st_size:
            with path.open(newline="") as file:
                self.columns = next(csv.reader(file))
        self.file = path.open("a", newline="")
        self.writer: csv.DictWriter | None = None

    def write(self, metrics: dict[str, float]) -> None:
        if self.writer is None:
            fresh = self.columns is None
            self.columns = self.columns or list(metrics)
            self.writer = csv.DictWriter(self.file, self.columns, restval="", extrasaction="ignore")
            if fresh:
                self.writer.writeheader()
        self.writer.writerow({k: _format(v) for k, v in metrics.items()})
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _format(value: float) -> str:
    return repr(float(value))


def read_metrics(path: str | os.PathLike) -> dict[str, list[float]]:
    """``metrics.csv`` as ``{column: values}``."""
    with Path(path).open(newline="") as file:
        rows = list(csv.DictReader(file))
    columns = rows[0].keys() if rows else []
    return {c: [float(r[c]) if r[c] != "" else math.nan for r in rows] for c in columns}


def _truncate_metrics(path: Path, iteration: int) -> None:
    """Drop rows logged after ``iteration`` (they will be produced again)."""
    if not path.exists():
        return
    with path.open(newline="") as file:
        rows = list(csv.reader(file))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    column = header.index("iteration")
    kept = [row for row in body if float(row[column]) <= iteration]
    with path.open("w", newline="") as file:
        csv.writer(file).writerows([header, *kept])


def plot_learning_curves(metrics_path: str | os.PathLike, out_path: str | os.PathLike) -> None:
    """Rewards per seat, game metrics and loss terms against iterations, as one PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = read_metrics(metrics_path)
    if not metrics:
        return
    x = metrics["iteration"]
    panels = [
        ("mean reward per step", [k for k in ("reward_0", "reward_1") if k in metrics]),
        ("game metric", [k for k in PROGRESS_METRICS[2:5] if k in metrics]),
        ("losses", [k for k in ("policy_loss", "value_loss", "entropy") if k in metrics]),
    ]
    panels = [(title, keys) for title, keys in panels if keys]
    figure = Figure(figsize=(4.5 * len(panels), 3.5), layout="constrained")
    FigureCanvasAgg(figure)
    for index, (title, keys) in enumerate(panels):
        axes = figure.add_subplot(1, len(panels), index + 1)
        for key in keys:
            axes.plot(x, metrics[key], label=key)
        axes.set_title(title)
        axes.set_xlabel("iteration")
        axes.legend(fontsize="small")
    figure.savefig(out_path, dpi=100)
