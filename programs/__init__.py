"""The task suite: programs (.rasp), task formats and generators.

`programs.tasks` is imported first so that `programs.zhou`, which builds on its `Task`, can be imported on its own.
"""

from . import tasks as _tasks  # noqa: F401
