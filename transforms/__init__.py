"""Pure transforms: text in, Polars frames out. No I/O, no Prefect, no DuckDB here.

Importing the package runs nothing. When ``make setup`` has compiled the transforms with mypyc
and the build still matches the source, a process that calls ``transforms.native.enable()``
before its first import of a transform loads the compiled modules instead of the ``.py`` files.
"""
