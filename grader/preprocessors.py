"""Moved to :mod:`grader.secure.preprocessors`; this name stays because every grading workspace's
``nbgrader_config.py`` (written by ``grader init``) does ``from grader.preprocessors import secure_config``."""
import sys

from .secure import preprocessors as _moved

sys.modules[__name__] = _moved
