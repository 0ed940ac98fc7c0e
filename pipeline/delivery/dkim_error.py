"""The DKIM failure, in a module that imports nothing.

Code that only names it (the ``send`` command's error handling, building a newsletter issue,
which never signs) then does not load dkimpy, cryptography and dnspython: ≈ 0.1 s of every
``newsletter`` run.
"""


class DkimError(Exception):
    """A DKIM key that cannot be read, parsed or used to sign."""
