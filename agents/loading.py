"""Turn an agent named on the command line (or in a config) into a :class:`Policy`.

An agent spec is one of, tried in this order:

==================================== ===========================================================
spec                                 meaning
==================================== ===========================================================
``label=SPEC``                       any spec below, shown as ``label`` in tables
``sb3:PATH.zip``                     a stable-baselines3 PPO model saved with ``model.save``
``sb3:ALGO:PATH.zip``                the same for another SB3 / sb3-contrib algorithm (``A2C``,
                                     ``DQN``, ``RecurrentPPO``, ...)
``always_defect``, ...               a scripted strategy of the game (``random`` for every game)
``baseline:NAME``                    a trained checkpoint shipped with the package
                                     (:mod:`agents.baselines`, e.g. ``baseline:aa_ipd``)
``package.module:factory``           ``factory`` is called and returns anything
``path/to/file.py:factory``          :func:`agents.policy.as_policy` accepts (see below)
``PATH``                             a checkpoint of our learners
                                     (``agents.checkpoint.load_policy``, seat 0)
==================================== ===========================================================

A factory may declare any of the parameters ``env_id``, ``observation_space``,
``action_space`` and ``env_kwargs`` (or ``**kwargs``); it receives those it declares::

    def make_agent(env_id, action_space):
        return lambda observations: np.zeros(len(observations), dtype=np.int64)

Nothing here unpickles a file unless asked: checkpoints are read with torch's ``weights_only``
loader, and an SB3 model is rebuilt from its weights and the game's spaces
(:func:`agents.sb3.load_sb3_model`); ``trust_pickle=True`` lets SB3's own loader unpickle the
model's ``data``, which runs any code stored there. A ``module:factory`` or ``file.py:factory``
spec runs that code by design: it is code you name, not a data file.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import socialdilemmas
from agents.policy import Policy, as_policy
from agents.scripted import make_game, scripted_policy
from socialdilemmas.registration import canonical_id

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE_SPEC = re.compile(
    rf"^(?P<module>{_IDENTIFIER}(\.{_IDENTIFIER})*|.+\.py):(?P<attr>{_IDENTIFIER})$"
)
_LABEL = re.compile(r"^(?P<label>[A-Za-z0-9_.\-]+)=(?P<spec>.+)$")
_FACTORY_ARGUMENTS = ("env_id", "observation_space", "action_space", "env_kwargs")


class AgentSpecError(ValueError):
    """An agent spec that names nothing loadable, with the reason."""


def load_agent(
    spec: str,
    env_id: str,
    *,
    trust_pickle: bool = False,
    device: str = "cpu",
    **env_kwargs: Any,
) -> Policy:
    """Load the agent named by ``spec`` to play ``env_id`` (see the module docstring).

    Args:
        spec: the agent spec.
        env_id: the game it will play (factories and scripted strategies depend on it).
        trust_pickle: let SB3 unpickle an ``sb3:`` model's ``data`` (runs any code in it);
            needed only for models that cannot be rebuilt from their weights alone.
        device: where a checkpoint's network acts (``"auto"``: CUDA when available).
        **env_kwargs: the env's arguments, passed to scripted strategies and factories.

    Raises:
        AgentSpecError: the spec matches no form, the module or attribute does not exist, the
            module or factory fails, the factory returned something that is not an agent, or
            a model or checkpoint cannot be loaded for this game.

    """
    if not isinstance(spec, str) or not spec:
        raise AgentSpecError(f"an agent spec must be a non-empty string, got {spec!r}")
    game = make_game(canonical_id(env_id), **env_kwargs)
    label = None
    labelled = _LABEL.match(spec)
    if labelled and not Path(spec).exists():
        label, spec = labelled["label"], labelled["spec"]
    policy = _load(spec, canonical_id(env_id), game, env_kwargs, trust_pickle, device)
    return as_policy(policy, name=label, action_space=game.action_space)


def _load(
    spec: str,
    env_id: str,
    game: Any,
    env_kwargs: dict[str, Any],
    trust_pickle: bool = False,
    device: str = "cpu",
) -> Policy:
    if spec.startswith("sb3:"):
        return _load_sb3(spec[len("sb3:") :], game, trust_pickle)
    scripted = sorted({*game.strategies(), "random"})
    if spec in scripted:
        return scripted_policy(spec, env_id, **env_kwargs)
    if spec.startswith("baseline:"):
        from agents.baselines import baseline_path

        try:
            path = baseline_path(spec[len("baseline:") :])
        except KeyError as error:
            raise AgentSpecError(
                f"{error.args[0]}; 'socialdilemmas baselines' lists them with their games"
            ) from None
        return _load_checkpoint(str(path), spec, env_id, game, env_kwargs, device)
    module_spec = _MODULE_SPEC.match(spec)
    if module_spec and not Path(spec).exists():
        return _load_factory(
            spec, module_spec["module"], module_spec["attr"], env_id, game, env_kwargs
        )
    if Path(spec).exists():
        return _load_checkpoint(spec, spec, env_id, game, env_kwargs, device)
    raise AgentSpecError(
        f"unknown agent {spec!r}: expected a scripted strategy of this game {scripted}, "
        f"a bundled baseline ({_baselines_of(env_id)}), 'module:factory', 'file.py:factory', "
        "'sb3:model.zip' or an existing checkpoint path"
    )


def _baselines_of(env_id: str) -> str:
    """The ``baseline:NAME`` specs trained on ``env_id``, for an error message."""
    from agents.baselines import catalog

    names = [f"baseline:{name}" for name, entry in catalog().items() if entry["env_id"] == env_id]
    listed = ", ".join(names) if names else "none for this game"
    return f"{listed}; 'socialdilemmas baselines' lists all"


def _load_checkpoint(
    path: str, spec: str, env_id: str, game: Any, env_kwargs: dict[str, Any], device: str
) -> Policy:
    """Load the checkpoint at ``path`` (named ``spec`` in messages) to play ``game``."""
    try:
        from agents.checkpoint import GameMismatchError, load_policy
    except ImportError as error:
        raise AgentSpecError(
            f"{spec!r} is a file, but checkpoints cannot be loaded: agents.checkpoint is "
            f"not available ({error})"
        ) from error
    env = socialdilemmas.make_vec(env_id, 1, **env_kwargs)  # lets it check the spaces
    try:
        return load_policy(path, env=env, device=device)
    except GameMismatchError as error:
        raise AgentSpecError(_mismatch(spec, error, env_id, game, env_kwargs)) from None
    except ValueError as error:  # CheckpointError: the message names the file and problem
        raise AgentSpecError(f"agent {spec!r}: {error}") from error


def _mismatch(spec: str, error: Any, env_id: str, game: Any, env_kwargs: dict[str, Any]) -> str:
    """The game mismatch of agent ``spec`` in one line, naming the arguments that differ.

    An argument not given counts at the value the requested ``game`` was built with by default.
    """
    trained_id, trained_kwargs = error.trained_env_id, dict(error.trained_env_kwargs or {})
    if trained_id != canonical_id(env_id):
        return f"agent {spec!r} was trained on {trained_id}, not {env_id}: play it there"
    game_defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(type(game).__init__).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    differ = {
        key: value
        for key, value in trained_kwargs.items()
        if (key in env_kwargs and env_kwargs[key] != value)
        or (key not in env_kwargs and key in game_defaults and game_defaults[key] != value)
    }
    hint = " ".join(f"--env-arg {key}={json.dumps(value)}" for key, value in differ.items())
    shown = ", ".join(f"{key}={json.dumps(value)}" for key, value in differ.items())
    return (
        f"agent {spec!r} was trained on {env_id} with {shown or trained_kwargs}, which this game "
        f"does not have ({error.difference}); play it with {hint or 'its training arguments'}"
    )


def _load_sb3(rest: str, game: Any, trust_pickle: bool) -> Any:
    from agents.sb3 import SB3ModelError, load_sb3_model

    algo_name, path = "PPO", rest
    named = re.match(rf"^(?P<algo>{_IDENTIFIER}):(?P<path>.+)$", rest)
    if named and not Path(rest).exists():
        algo_name, path = named["algo"], named["path"]
    try:
        return load_sb3_model(
            path, algo_name, game.observation_space, game.action_space, trust_pickle=trust_pickle
        )
    except SB3ModelError as error:
        raise AgentSpecError(f"agent 'sb3:{rest}': {error}") from None


def _findable(module_name: str) -> str:
    """``module_name``, after putting the current folder on ``sys.path`` if the module is there.

    ``python -m`` and ``python -c`` import modules of the current folder; a console script such
    as ``socialdilemmas`` does not, so ``my_agents:make_agent`` typed next to ``my_agents.py``
    would fail without this.
    """
    top = module_name.split(".")[0]
    here = Path.cwd()
    if importlib.util.find_spec(top) is None and (
        (here / f"{top}.py").is_file() or (here / top / "__init__.py").is_file()
    ):
        sys.path.insert(0, str(here))
    return module_name


def _import(module_name: str, spec: str) -> Any:
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.is_file():
            raise AgentSpecError(f"agent {spec!r}: no file {module_name!r}")
        name = f"_agent_{path.stem}_{abs(hash(str(path.resolve())))}"
        if name in sys.modules:
            return sys.modules[name]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except BaseException as error:
            del sys.modules[name]
            if isinstance(error, Exception):  # a SyntaxError, a failing import...: one line
                raise AgentSpecError(
                    f"agent {spec!r}: running {module_name} failed: {_one_line(error)}"
                ) from error
            raise
        return module
    try:
        return importlib.import_module(_findable(module_name))
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise AgentSpecError(
                f"agent {spec!r}: cannot import module {module_name!r}: it is neither installed "
                "nor in the current folder (give a file as path/to/file.py:factory)"
            ) from error
        raise AgentSpecError(
            f"agent {spec!r}: importing {module_name} failed: {_one_line(error)}"
        ) from error
    except Exception as error:  # noqa: BLE001 - any error in the user's module, as one line
        raise AgentSpecError(
            f"agent {spec!r}: importing {module_name} failed: {_one_line(error)}"
        ) from error


def _one_line(error: BaseException) -> str:
    """``Type: message`` of an exception, with the place of a SyntaxError."""
    if isinstance(error, SyntaxError):
        return f"SyntaxError: {error.msg} ({error.filename}, line {error.lineno})"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _load_factory(
    spec: str, module_name: str, attr: str, env_id: str, game: Any, env_kwargs: dict[str, Any]
) -> Any:
    module = _import(module_name, spec)
    if not hasattr(module, attr):
        raise AgentSpecError(f"agent {spec!r}: module {module_name!r} has no attribute {attr!r}")
    factory = getattr(module, attr)
    if not callable(factory):
        raise AgentSpecError(f"agent {spec!r}: {attr!r} is not callable")
    available = {
        "env_id": env_id,
        "observation_space": game.observation_space,
        "action_space": game.action_space,
        "env_kwargs": dict(env_kwargs),
    }
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        parameters = {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        arguments = available
    else:
        unknown = [
            name
            for name, p in parameters.items()
            if name not in available
            and p.default is inspect.Parameter.empty
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL,)
        ]
        if unknown:
            raise AgentSpecError(
                f"agent {spec!r}: factory {attr!r} requires {unknown}; a factory may only ask "
                f"for {list(_FACTORY_ARGUMENTS)}"
            )
        arguments = {name: value for name, value in available.items() if name in parameters}
    try:
        agent = factory(**arguments)
    except Exception as error:  # noqa: BLE001 - the user's factory failing, as one line
        raise AgentSpecError(
            f"agent {spec!r}: factory {attr!r} raised {_one_line(error)}"
        ) from error
    name = None
    if not isinstance(agent, Policy):  # name plain functions after themselves, lambdas after attr
        name = getattr(agent, "__name__", None)
        name = attr if name in (None, "<lambda>") else name
    try:
        return as_policy(agent, name=name, action_space=game.action_space)
    except TypeError as error:
        raise AgentSpecError(
            f"agent {spec!r}: factory {attr!r} did not return an agent: {error}"
        ) from error


__all__ = ["AgentSpecError", "load_agent"]
