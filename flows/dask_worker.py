"""What a Dask worker loads before its first task (``dask worker --preload flows.dask_worker``).

A worker imports the transforms when it unpickles its first batch; the compiled ones
(transforms/native.py) are only taken if they are enabled before that import, and the lexicons
take a second to load, Great Expectations four. Preloading does all three when the worker starts, as the local pool's
initializer does for its processes (``flows.lexicon_cache.start_worker``). A worker started
without it still runs newsetl correctly, with the pure-Python transforms (slower).
"""

from __future__ import annotations


def dask_setup(worker: object) -> None:
    """Dask's preload hook: the environment, the compiled transforms, the lexicons, GX."""
    from flows.runtime import configure
    from transforms.native import enable

    configure()
    enable()
    from flows import lexicon_cache

    lexicon_cache.context()
    import great_expectations  # noqa: F401  (the frame suites run here: ~4 s to import, once, before any batch)
