"""The JAX target: the Python code printed with ``jax.numpy`` (:mod:`.backend`). JAX is imported
only when code is compiled."""
