"""Hidden checks, one module per week.

The hidden part of every notebook test cell is a single call such as
``grader.checks.week1.check_initialize_he(initialize_he)``. Each check takes
the student's function, calls it on fresh inputs (deep copies, so in-place
implementations are judged like pure ones) and raises ``AssertionError``
(``dlutils.checks.CheckFailure``) with a message that says what is wrong.
Because they are ordinary Python, ``tests/checks/`` runs every check against
the reference solution, correct variants and a catalogue of wrong ones.
"""
