"""What the learners share: the learner protocol, the on-policy base, returns, losses, buffers.

* :mod:`~agents.algorithms.core.config`: :class:`LearnerConfig`, the fields every learner has;
* :mod:`~agents.algorithms.core.learner`: :class:`Learner`, the protocol the training loop,
  checkpoints and the command line depend on, and :class:`Agent`;
* :mod:`~agents.algorithms.core.on_policy`: :class:`OnPolicyLearner` (rollout, GAE, the
  advantage-shaping hook, minibatched updates), the base of PPO, actor-critic, AA and PAA;
* :mod:`~agents.algorithms.core.returns`: returns, advantages and critic targets;
* :mod:`~agents.algorithms.core.losses`: the policy-gradient and PPO losses and their
  statistics, critic losses, the DiCE magic box, Polyak averaging;
* :mod:`~agents.algorithms.core.replay`: the replay buffers (past parameters, past games);
* :mod:`~agents.algorithms.core.snapshots`: playing seat 1 with past snapshots of the agent.
"""
