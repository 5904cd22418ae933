"""The compile stages of each node kind, as functions over frozen records (drafts.py): discovery, pass 1
and pass 2 of models, seeds, snapshots and singular tests (models.py), settling configs and relations
(settling.py, configs.py), one render-and-analyse path (analyse.py), generic tests (generic_tests.py,
builtin_tests.py), unit tests, sensors, snapshots, time-range refs, the typed run settings of a model
(orchestration.py), late rendering (late.py) and the Manifest (assembly.py). A new node kind gets a module
here and one call in compiler.py.
"""
