"""Pure transforms: text in, Polars frames out. No I/O, no Prefect, no DuckDB here.

When ``make setup`` has compiled them with mypyc and the build still matches the source, the
compiled modules load instead of the ``.py`` files (``transforms.native``).
"""

from transforms.native import enable

enable(__path__)
