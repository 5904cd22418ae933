"""The sqlglot boundary: parsing, table scanning, transpiling and quoting (syntax.py), a rendered query
analysed against the project's names and written in the target dialect (querying.py), the constructs a
target cannot run (portability.py), files read in SQL that sqlflow loads instead (file_loads.py), column
specs (columns.py), and `sqlflow show --inline` (inline.py).

Importing the package loads no sqlglot; syntax.py and querying.py do, when a compile must parse.
"""
