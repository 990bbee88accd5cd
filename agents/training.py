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
* ``learning_curves.png``: rewards, game metric and each loss term (a panel each) against
  iterations, titled with the algorithm, game and run folder;
* ``.lock``: locked by the process training into the folder, for as long as it runs.

:func:`resume` continues from any of those checkpoints: the networks, optimizers and iteration
come back, and since every random draw is derived from ``(seed, iteration)``, a resumed run
produces the same numbers as one that was never interrupted.

What keeps a run folder readable:

* **one run at a time**: :func:`train` and :func:`resume` hold an exclusive lock on the folder
  (``flock`` on ``.lock``) for the life of the run; a second run into the same folder stops at
  once with :class:`RunFolderBusyError`;
* **whole rows**: each ``metrics.csv`` row is appended with one write, and a row a kill or a
  full disk cut short is dropped (the file is repaired to its last complete row) whenever a run
  opens the file, so resuming never trips over a torn tail;
* **no silent divergence**: after every iteration the networks, optimizer states and loss terms
  are checked; a NaN or infinite value stops the run with :class:`NonFiniteError` naming the
  iteration, after saving ``checkpoints/last_finite.pt``: the networks and optimizers as they
  were after the last finite iteration (other learner state, such as replay buffers, as it was
  when the run stopped);
* **disk errors name the file**: a full or read-only disk raises
  :class:`agents.checkpoint.DiskWriteError` ("no space left on device writing ...") and leaves
  no temporary file behind.

These checks use only what every learner has (``train_iteration``, ``state_dict``,
``iteration``, ``config``) and the checkpoint format's ``agents`` entries.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import math
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from agents.algorithms import Learner, LearnerConfig, get_algorithm
from agents.checkpoint import (
    algorithm_name,
    atomic_write_bytes,
    describe_locations,
    disk_write_error,
    non_finite_entries,
    restore_learner,
    save_checkpoint,
)
from agents.policy import Policy
from agents.validation import NonFiniteError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: metrics shown in the progress bar when present
PROGRESS_METRICS = (
    "reward_0",
    "reward_1",
    "cooperation_rate",
    "own_coin_share",
    "welfare_share",
    "entropy",
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
    with run_folder_lock(run_dir):
        if (run_dir / "metrics.csv").exists():
            raise FileExistsError(
                f"{run_dir} already holds a run; pick another run_dir or resume from its "
                "checkpoints"
            )
        torch.set_num_threads(config.torch_threads)
        learner = learner_class(config, opponent)
        _write_config(run_dir, algorithm, config)
        return run_loop(learner, run_dir, progress)


def _write_config(run_dir: Path, algorithm: str, config: LearnerConfig) -> None:
    text = json.dumps({"algorithm": algorithm, "config": config.to_dict()}, indent=2)
    atomic_write_bytes(run_dir / "config.json", (text + "\n").encode())


def resume(
    checkpoint: str | os.PathLike,
    run_dir: str | os.PathLike | None = None,
    iterations: int | None = None,
    progress: bool = True,
    opponent: Policy | None = None,
    device: str | None = None,
) -> Learner:
    """Continue the run saved in ``checkpoint`` up to its (or a new) number of iterations.

    Args:
        checkpoint: a file from a run folder's ``checkpoints/``.
        run_dir: where to keep writing (default: the run folder the checkpoint lies in).
            ``metrics.csv`` rows after the checkpoint's iteration are dropped, so the file reads
            as one uninterrupted run.
        iterations: train up to this many iterations instead of the saved config's; at least
            the checkpoint's own iteration.
        progress: show a progress bar.
        opponent: the fixed seat-1 opponent, for a run that was trained against one.
        device: continue on this device instead of the saved config's (a run started on a GPU
            can continue on a CPU and the other way round).

    """
    checkpoint = Path(checkpoint)
    overrides: dict = {} if iterations is None else {"iterations": int(iterations)}
    if device is not None:
        overrides["device"] = device
    learner = restore_learner(checkpoint, opponent=opponent, **overrides)
    if iterations is not None and int(iterations) < learner.iteration:
        raise ValueError(
            f"iterations must be at least the checkpoint's iteration {learner.iteration} to "
            f"resume from {checkpoint}, got {iterations}"
        )
    if run_dir is None:
        run_dir = checkpoint.parent.parent
        if not (run_dir / "config.json").exists():
            raise FileNotFoundError(
                f"{checkpoint} is not inside a run folder; give run_dir to write the resumed run"
            )
    run_dir = Path(run_dir)
    with run_folder_lock(run_dir):
        _write_config(run_dir, algorithm_name(learner), learner.config)
        repair_metrics(run_dir / "metrics.csv", learner.iteration)
        torch.set_num_threads(learner.config.torch_threads)
        return run_loop(learner, run_dir, progress)


# ---- one run per folder -----------------------------------------------------------------------
class RunFolderBusyError(FileExistsError):
    """Another process is training into the run folder (it holds the folder's lock)."""


#: run folders whose lock this process holds -> (lock file, nesting depth)
_HELD_LOCKS: dict[Path, list[Any]] = {}


@contextlib.contextmanager
def run_folder_lock(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock on ``run_dir`` (created if needed) while the block runs.

    The lock is an ``flock`` on ``run_dir/.lock``, released by the operating system if the
    process dies, so a killed run never leaves a folder locked. Re-entrant within a process.

    Raises:
        RunFolderBusyError: another process holds the lock.

    """
    run_dir = Path(run_dir)
    key = run_dir.resolve()
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key][1] += 1
        try:
            yield run_dir
        finally:
            _HELD_LOCKS[key][1] -= 1
        return
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock_file = open(run_dir / ".lock", "a+")  # noqa: SIM115 - held beyond this block
    except OSError as error:
        raise disk_write_error(error, run_dir / ".lock") from error
    if not _try_lock(lock_file):
        lock_file.seek(0)
        holder = lock_file.read().strip() or "another process"
        lock_file.close()
        raise RunFolderBusyError(
            f"run folder {run_dir} is in use by another training run ({holder}); wait for it "
            "to finish or pick another run folder"
        )
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    lock_file.flush()
    _HELD_LOCKS[key] = [lock_file, 1]
    try:
        yield run_dir
    finally:
        del _HELD_LOCKS[key]
        lock_file.close()  # closing the descriptor releases the lock


def _try_lock(file: Any) -> bool:
    """Take an exclusive, non-blocking lock on ``file``; False if someone else holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


# ---- the loop ---------------------------------------------------------------------------------
def run_loop(learner: Learner, run_dir: Path, progress: bool = True) -> Learner:
    """Iterate ``learner`` up to ``config.iterations``, logging and checkpointing in ``run_dir``.

    Holds the run folder's lock throughout (see :func:`run_folder_lock`). Raises
    :class:`NonFiniteError` if an iteration leaves a NaN or infinite loss or weight, after
    saving ``checkpoints/last_finite.pt``.
    """
    with run_folder_lock(run_dir):
        return _run_loop(learner, Path(run_dir), progress)


def _run_loop(learner: Learner, run_dir: Path, progress: bool) -> Learner:
    from tqdm.auto import tqdm

    config = learner.config
    learner.run_dir = run_dir
    checkpoints = run_dir / "checkpoints"
    metrics_path = run_dir / "metrics.csv"
    steps_per_iteration = config.num_envs * learner.env.max_cycles
    last_finite = _finite_snapshot(learner.state_dict())
    bar = tqdm(
        total=config.iterations,
        initial=learner.iteration,
        disable=not progress,
        desc=f"{algorithm_name(learner)} {config.env_id}",
        unit="it",
        dynamic_ncols=True,
    )
    writer = _MetricsWriter(metrics_path)
    try:
        while learner.iteration < config.iterations:
            start = time.perf_counter()
            try:
                metrics = learner.train_iteration()
            except NonFiniteError as error:  # e.g. a policy that cannot sample its actions
                _stop_diverged(learner, last_finite, checkpoints / "last_finite.pt", str(error))
            seconds = time.perf_counter() - start
            state = learner.state_dict()
            problem = _non_finite(state, metrics)
            if problem is not None:
                _stop_diverged(learner, last_finite, checkpoints / "last_finite.pt", problem)
            last_finite = _finite_snapshot(state)
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
    plot_learning_curves(
        metrics_path,
        run_dir / "learning_curves.png",
        title=f"{algorithm_name(learner)} on {config.env_id}: {run_dir.name}",
    )
    return learner


def _finite_snapshot(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of a learner state's iteration and agents (networks, optimizers)."""
    return {"iteration": state["iteration"], "agents": _copy_tree(state["agents"])}


def _copy_tree(value: Any) -> Any:
    """Copy nested dicts, lists and tensors (tensors cloned); a fast ``copy.deepcopy``."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: _copy_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_tree(item) for item in value)
    return copy.deepcopy(value)


def _non_finite(state: dict[str, Any], metrics: dict[str, float]) -> str | None:
    """Describe the NaN or infinite loss terms and weights after an iteration (None if none)."""
    losses = [
        name
        for name, value in metrics.items()
        if "loss" in name and not math.isfinite(float(value))
    ]
    weights = non_finite_entries(state["agents"], "agents")
    if not losses and not weights:
        return None
    parts = []
    if losses:
        parts.append(f"loss terms {', '.join(losses)}")
    if weights:
        parts.append(f"weights {describe_locations(weights)}")
    return "NaN or infinite " + " and ".join(parts)


def _stop_diverged(learner: Learner, last_finite: dict[str, Any], path: Path, problem: str) -> None:
    """Save the last finite state to ``path`` and raise NonFiniteError naming the iteration."""
    state = {**learner.state_dict(), **last_finite}
    save_checkpoint(learner, path, state=state)
    iteration = last_finite["iteration"] + 1
    raise NonFiniteError(
        f"training diverged at iteration {iteration}: {problem}. Saved the last finite state "
        f"(iteration {last_finite['iteration']}) to {path}; train again with a smaller learning "
        "rate or other hyperparameters"
    )


def learned_reward(learner: Learner, metrics: dict[str, float]) -> float:
    """Mean reward per step of the seats ``learner`` trains in an iteration's ``metrics``.

    Both seats, or seat 0 alone against a fixed opponent: what ``stop_reward`` is compared with.
    """
    if learner.opponent is not None:
        return metrics["reward_0"]
    return 0.5 * (metrics["reward_0"] + metrics["reward_1"])


class _MetricsWriter:
    """Appends rows to ``metrics.csv`` whole, keeping the columns of an existing file.

    Opening repairs the file to its last complete row (see :func:`repair_metrics`). Each row
    goes out in one unbuffered write; if the write fails (a full disk), the file is cut back to
    where the row began and :class:`agents.checkpoint.DiskWriteError` names it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.columns: list[str] | None = repair_metrics(self.path)
        try:
            self.file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        except OSError as error:
            raise disk_write_error(error, self.path) from error

    def write(self, metrics: dict[str, float]) -> None:
        """Append one row (and the header, for a new file)."""
        text = io.StringIO()
        writer = csv.writer(text)
        if self.columns is None:
            self.columns = list(metrics)
            writer.writerow(self.columns)
        writer.writerow(
            ["" if metrics.get(c) is None else _format(metrics[c]) for c in self.columns]
        )
        data = text.getvalue().encode()
        start = self.file.tell()
        try:
            written = 0
            while written < len(data):
                written += self.file.write(data[written:])
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(self.file.fileno(), start)
            raise disk_write_error(error, self.path) from error

    def close(self) -> None:
        """Close the file."""
        self.file.close()


def _format(value: float) -> str:
    return repr(float(value))


def read_metrics(path: str | os.PathLike) -> dict[str, list[float]]:
    """``metrics.csv`` as ``{column: values}`` (a row still being written is left out)."""
    with Path(path).open(newline="") as file:
        rows = [row for row in csv.DictReader(file) if None not in row and None not in row.values()]
    columns = rows[0].keys() if rows else []
    return {c: [float(r[c]) if r[c] != "" else math.nan for r in rows] for c in columns}


def repair_metrics(path: str | os.PathLike, iteration: int | None = None) -> list[str] | None:
    """Cut ``metrics.csv`` back to its complete rows (and those up to ``iteration``).

    A row is kept when it ends with a newline, has one value per column and every value is a
    number (or empty): a half-written last row, left by a kill or a full disk, and blank lines
    are dropped. With ``iteration``, rows logged after it are dropped too (a resumed run
    produces them again). The file is rewritten atomically, and only if something changed.

    Returns:
        The header's columns, or None when there is no file or no complete header.

    """
    path = Path(path)
    if not path.exists():
        return None
    raw = path.read_bytes()
    lines = raw.decode("utf-8", errors="replace").split("\n")
    complete, torn = lines[:-1], lines[-1]  # text after the last newline was cut short
    header = next(csv.reader([complete[0]])) if complete else []
    kept_rows: list[str] = []
    if header:
        column = header.index("iteration") if "iteration" in header else None
        for line in complete[1:]:
            values = next(csv.reader([line]), [])
            if len(values) != len(header) or not all(_is_number(v) for v in values):
                continue
            if iteration is not None and column is not None and (float(values[column]) > iteration):
                continue
            kept_rows.append(line)
    text = "".join(f"{line}\n" for line in ([complete[0]] if header else []) + kept_rows)
    if text.encode() != raw or torn:
        atomic_write_bytes(path, text.encode())
    return header or None


def _is_number(value: str) -> bool:
    if value == "":
        return True
    try:
        float(value)
    except ValueError:
        return False
    return True


def _truncate_metrics(path: Path, iteration: int) -> None:
    """Drop rows logged after ``iteration`` and any torn row (kept for the benchmark scripts)."""
    repair_metrics(path, iteration)


def plot_learning_curves(
    metrics_path: str | os.PathLike, out_path: str | os.PathLike, title: str | None = None
) -> Figure | None:
    """Plot a run's ``metrics.csv`` as one PNG: rewards, game metrics, then one panel per loss.

    Each loss term (every ``*_loss`` column, and ``entropy``) gets its own panel because
    their scales differ by orders of magnitude (a value loss near 100 would flatten a policy
    loss near 0.01 on a shared axis). ``title`` heads the figure (the training loop passes the
    algorithm, game and run folder). Returns the figure, or None when nothing is logged yet.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metrics = read_metrics(metrics_path)
    if not metrics:
        return
    x = metrics["iteration"]
    losses = [key for key in metrics if key.endswith("_loss")] + (
        ["entropy"] if "entropy" in metrics else []
    )
    game_metrics = [key for key in PROGRESS_METRICS[2:5] if key in metrics]
    panels = [
        ("rewards", "mean reward per step", [k for k in ("reward_0", "reward_1") if k in metrics]),
        (", ".join(key.replace("_", " ") for key in game_metrics), "fraction", game_metrics),
    ]
    panels = [panel for panel in panels if panel[2]]
    panels += [(key.replace("_", " "), key, [key]) for key in losses]
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * rows + 0.4), layout="constrained")
    FigureCanvasAgg(figure)
    for index, (panel_title, y_label, keys) in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        for key in keys:
            axes.plot(x, metrics[key], label=key)
        axes.set_title(panel_title)
        axes.set_xlabel("iteration")
        axes.set_ylabel(y_label)
        if len(keys) > 1:
            axes.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    figure.savefig(out_path, dpi=100)
    return figure
