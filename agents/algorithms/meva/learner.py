"""MeVa as an exact-game learner: ascend V = (1 - gamma) f + gamma U of a trained model.

As the MeVa tournament plays it (``MevaLearner`` in MetaValueLearning/MetaValueLearning@107c709
``matrix.ipynb``): the learner steps ``x <- x + alpha dV_own/dx_own`` at a fixed meta-discount
(0.95), with the model trained against the kind of learner it meets:

============================  ==================================================
opponent                      model
============================  ==================================================
:class:`MevaLearner`          the self-play model (``opponent="meva"``)
:class:`LolaLearner`          the model trained against exact LOLA
anything else                 the model trained against naive learners (the
                              reference also uses it against M-MAML)
============================  ==================================================

Models trained against naive or LOLA learners know MeVa as player 0; in seat 1 of an
asymmetric game (matching pennies) the learner uses a model trained in seat 1 (on the game with
its players swapped). Where the reference puts MeVa in seat 0 of every cell, ours plays the seat
the tournament gives it. With several models of one kind (seeds), trial ``t`` is dealt to model
``t mod count``, as the reference tiles its seed pairs.

Models come from :meth:`MevaLearner.add_model`, from ``model_dir`` or from the models bundled
with the package (``agents/baselines/meva/<game>_vs_<opponent>[_seat1]_s<seed>.pt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from agents.algorithms.exact.interface import (
    ExactLearner,
    ExactLearnerConfig,
    differentiable,
    own_gradient,
    take_step,
)
from agents.algorithms.exact.value import ExactGame, SeatView
from agents.algorithms.meva.training import MetaValueModel

#: where the trained models shipped with the package live
BUNDLED_MODELS = Path(__file__).resolve().parents[2] / "baselines" / "meva"


def model_file_name(game: str, opponent: str, seat: int, seed: int) -> str:
    """The file name of a model: ``<game>_vs_<opponent>[_seat1]_s<seed>.pt``."""
    seat_part = "_seat1" if seat == 1 else ""
    return f"{game}_vs_{opponent}{seat_part}_s{seed}.pt"


@dataclass
class MevaLearnerConfig(ExactLearnerConfig):
    """Settings of MeVa in play; ``lr`` None is the game's reference rate, as in training."""

    meta_gamma: float = 0.95
    """the meta-discount the learner plays at (the reference tournament: 0.95)"""
    seeds: tuple[int, ...] = (0,)
    """which trained models (by training seed) to load for each opponent kind"""
    model_dir: str | None = None
    """a folder of models named by :func:`model_file_name`; None: the bundled models"""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.meta_gamma < 1.0:
            raise ValueError(f"meta_gamma must be in [0, 1), got {self.meta_gamma!r}")
        if not self.seeds:
            raise ValueError("seeds must name at least one model seed")


def opponent_kind(opponent: ExactLearner | None) -> str:
    """Which model MeVa uses against ``opponent``: ``meva``, ``lola`` or ``naive``."""
    from agents.algorithms.lola.exact import LolaLearner

    if isinstance(opponent, MevaLearner):
        return "meva"
    if isinstance(opponent, LolaLearner):
        return "lola"
    return "naive"


class MevaLearner(ExactLearner):
    """Gradient ascent on the meta-value V = (1 - gamma) f + gamma U of a trained model."""

    name = "meva"
    config_class = MevaLearnerConfig

    def __init__(self, config: MevaLearnerConfig | None = None) -> None:
        super().__init__(config)
        # (game, opponent kind, seat) -> the models to use
        self.models: dict[tuple[str, str, int], list[MetaValueModel]] = {}
        # (game, its gamma, opponent kind, seat played) -> checked models: update() runs 300
        # times a trial batch, so the seat mapping and the game check are done once
        self._checked: dict[tuple[str, float, str, int], list[MetaValueModel]] = {}

    def add_model(self, model: MetaValueModel, seat: int | None = None) -> None:
        """Use ``model`` against its opponent kind (in ``seat``; default: the model's)."""
        if not isinstance(model, MetaValueModel):
            raise TypeError(f"add_model takes a MetaValueModel, got {type(model).__name__}")
        config = model.config
        seat = config.seat if seat is None else seat
        self.models.setdefault((config.game, config.opponent, seat), []).append(model)
        self._checked.clear()

    def _model_seat(self, kind: str, seat: int, game: ExactGame) -> int:
        """The seat whose models serve ``seat``.

        Self-play models serve both seats, and a symmetric game's seat-0 models serve seat 1.
        """
        if kind == "meva" or game.swapped() is game:
            return 0
        return seat

    def models_for(self, kind: str, seat: int, game: ExactGame) -> list[MetaValueModel]:
        """The models to play against ``kind`` from ``seat``, loading them if needed."""
        checked_key = (game.name, game.gamma, kind, seat)
        if checked_key in self._checked:
            return self._checked[checked_key]
        model_seat = self._model_seat(kind, seat, game)
        key = (game.name, kind, model_seat)
        if key not in self.models:
            self.models[key] = [
                self._load(game, kind, model_seat, seed) for seed in self.config.seeds
            ]
        models = self.models[key]
        for model in models:
            trained = model.config
            if trained.game != game.name or abs(trained.game_gamma - game.gamma) > 1e-12:
                raise ValueError(
                    f"the MeVa model against {kind} was trained on {trained.game} (gamma "
                    f"{trained.game_gamma}), not on {game.name} (gamma {game.gamma})"
                )
        self._checked[checked_key] = models
        return models

    def _load(self, game: ExactGame, kind: str, seat: int, seed: int) -> MetaValueModel:
        folder = Path(self.config.model_dir) if self.config.model_dir else BUNDLED_MODELS
        path = folder / model_file_name(game.name, kind, seat, seed)
        if not path.is_file():
            raise FileNotFoundError(
                f"no MeVa model for {game.name} against {kind} (seat {seat}, seed {seed}): "
                f"{path} does not exist. Train one with `python experiments/reproduce_meva.py "
                f"train --game {game.name} --opponent {kind} --seats {seat} --seeds {seed}` and "
                "pass its folder as model_dir, or add it with add_model()"
            )
        return MetaValueModel.load(path)

    def prepare(self, game: ExactGame, generator: torch.Generator) -> None:
        """Check that a model for the naive opponent (the default kind) exists for ``game``."""
        self.models_for("naive", 0, game)

    def update(
        self,
        view: SeatView,
        own: torch.Tensor,
        other: torch.Tensor,
        opponent: ExactLearner | None = None,
        create_graph: bool = False,
    ) -> torch.Tensor:
        """One step ``alpha dV_own/dx_own``, V from the model for this opponent and seat."""
        kind = opponent_kind(opponent)
        models = self.models_for(kind, view.seat, view.game)
        x = differentiable(own, create_graph)
        other = other if create_graph else other.detach()
        value, _ = view.values(x, other)
        gamma = self.config.meta_gamma
        if kind == "meva":  # the self-play model sees the players in seat order
            joint, index = (torch.stack([x, other], -2), 0)
            if view.seat == 1:
                joint, index = (torch.stack([other, x], -2), 1)
        else:  # the others know MeVa as player 0
            joint, index = torch.stack([x, other], -2), 0
        gammas = torch.full(joint.shape[:-1], gamma, dtype=torch.float64)
        trials = own.shape[0]
        u = torch.zeros(trials, dtype=torch.float64)
        for number, model in enumerate(models):
            dealt = torch.arange(number, trials, len(models))
            u = u.index_add(0, dealt, model.values(joint[dealt], gammas[dealt])[:, index])
        meta_value = (1 - gamma) * value + gamma * u if models[0].config.correction else u
        step = self.learning_rate(view.game) * own_gradient(meta_value, x, create_graph)
        return take_step(x, step, create_graph)
