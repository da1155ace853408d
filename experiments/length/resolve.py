"""The profile one run trains under: a fixed profile's values for the task, or values per task and encoding from
the authors' regime (`authors_profile`) or Zhou et al.'s lengths (`zhou_profile`), with the command line's step
budget and a protocol's examples per bin applied to each resolved run."""

from __future__ import annotations

from .authors_profile import resolve as resolve_authors
from .profiles import Profile
from .zhou_profile import resolve as resolve_zhou


def for_run(profile: Profile, task: str, pe: str) -> Profile:
    """The profile the run of (task, encoding) trains under."""
    if profile.per_run == "authors":
        resolved = resolve_authors(profile, task, pe)
    elif profile.per_run == "zhou":
        resolved = resolve_zhou(profile, task)
    else:
        return profile.for_task(task)
    resolved = resolved.budget(profile.steps_override, profile.full_schedule)
    return resolved.with_(eval_examples=profile.examples_override) if profile.examples_override else resolved
