"""Plan runs, execute them as independent jobs (a local process pool, or Ray), and record each finished
run as one JSON line — so an interrupted experiment resumes where it stopped.

A job is one (task, positional encoding, seed). Without a sweep it is one run; with `--sweep` it tries the
profile's architectures smallest first and keeps the first that reaches 100% in-distribution accuracy.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rasp.errors import RaspInputError

from .authors_profile import with_their_grid
from .profiles import Profile
from .records import RESULTS, RunRecord, append_records, finished_jobs
from .resolve import for_run
from .train import Run, RunSpec, run_key

__all__ = ["RESULTS", "Job", "finished_jobs", "plan", "run_jobs", "with_steps"]


@dataclass(frozen=True)
class Job:
    task: str
    pe: str
    seed: int
    profile: Profile
    sweep: bool = False
    rule: str = "heldout"  # with a sweep, which run it keeps: see `done_sweeping` and `chosen`
    data: str = "authors"  # which sampler makes the examples (programs.tasks.DATA_KINDS)
    data_dir: str | None = None  # or the authors' files: train and test on them (--data-dir)
    protocol: tuple[str, int, str] = ("", 0, "")  # the pre-registered protocol's name, version and hash, if any

    @property
    def selection(self) -> str:
        """The rule that chooses the job's model: one fixed architecture, or a sweep judged on held-out data."""
        return self.rule if self.sweep else "fixed"

    @property
    def stamp(self) -> dict:
        """What every record of this job carries besides the run's own results."""
        name, version, digest = self.protocol
        return {
            "job": self.key,
            "data": self.data,
            "data_dir": self.data_dir or "",
            "selection": self.selection,
            "protocol": name,
            "protocol_version": version,
            "protocol_hash": digest,
        }

    @property
    def key(self) -> str:
        return run_key(self.task, self.pe, self.seed, self._model_part, self.data + ("-files" if self.data_dir else ""))

    @property
    def _model_part(self) -> str:
        if not self.sweep:
            return self.profile.architecture.name
        return "sweep" if self.rule == "heldout" else f"sweep-{self.rule}"

    def done_sweeping(self, record: dict) -> bool:
        """Whether a sweep stops after this run: `heldout` at the first run that converged in-distribution (held-out
        training-length data only); `authors` at the first at 100% on both the training bin and the next one, as the
        authors' sweep stops (docs/authors_protocol.md: it reads the 51-100 test bin)."""
        if self.rule == "authors":
            return record["converged"] and record["bins"][1]["accuracy"] >= 1.0
        return record["converged"]

    def chosen(self, records: list[dict]) -> dict:
        """The run a job keeps. `heldout`: the converged one, or the largest tried. `authors`: the one that stopped the
        sweep; else the best on the second bin among those at 100% on the first (the earliest on a tie; their choice
        by hand, which reproduces all 16 published choices); else the largest tried (their "big" model is not swept)."""
        if self.rule != "authors" or self.done_sweeping(records[-1]):
            return records[-1]
        fitting = [r for r in records if r["bins"][0]["accuracy"] >= 1.0]
        if not fitting:
            return records[-1]
        return max(fitting, key=lambda r: (r["bins"][1]["accuracy"], -records.index(r)))

    def specs(self) -> list[RunSpec]:
        architectures = self.profile.sweep if self.sweep else (self.profile.architecture,)
        return [
            RunSpec(self.task, self.pe, self.seed, self.profile, a, self.data, self.data_dir) for a in architectures
        ]


def execute_job(job: Job, out_dir: str, device: str = "cpu", threads: int = 1) -> list[dict]:
    """Run a job's runs in order (stopping a sweep at the first that converges). Picklable for pools."""
    import torch

    torch.set_num_threads(threads)
    records = []
    for spec in job.specs():
        record = Run(spec, Path(out_dir) / "checkpoints", device=device, progress=_progress_lines).execute()
        record["job"] = job.key
        records.append(record)
        if job.done_sweeping(record):
            break
    kept = job.chosen(records)
    for record in records:
        record["selected"] = record is kept
    return records


def execute_jobs_ensembled(
    jobs: list[Job], out_dir: str, device: str = "cpu", threads: int = 1, members: int | None = None
) -> list[tuple[Job, list[dict]]]:
    """`execute_job` for a group of jobs at once, training the runs that share a shape as ensembles
    (experiments/length/ensemble.py): each record equals the one `execute_job` would give (same keys, same checkpoints;
    "seconds" is the ensemble's wall time up to that record). A sweep goes round by round: round r trains every
    unfinished job's r-th architecture, grouped by shape, and a job stops at its first converged run.

    `members` caps an ensemble's size; None: `default_members(device)`. Returns (job, records) per job, in order.
    Picklable for pools: a worker can take a whole group."""
    import torch

    from .ensemble import Ensemble, shape_key

    torch.set_num_threads(threads)
    records: dict[Job, list[dict]] = {job: [] for job in jobs}
    plans = {job: job.specs() for job in jobs}
    for round_ in range(max(len(specs) for specs in plans.values())):
        pending = [(job, plans[job][round_]) for job in jobs if round_ < len(plans[job])]
        pending = [(job, spec) for job, spec in pending if not (records[job] and job.done_sweeping(records[job][-1]))]
        groups: dict[tuple, list[tuple[Job, RunSpec]]] = {}
        for job, spec in pending:
            groups.setdefault(shape_key(spec), []).append((job, spec))
        for group in groups.values():
            size = members or default_members(device) or len(group)
            for start in range(0, len(group), size):
                part = group[start : start + size]
                ensemble = Ensemble([spec for _, spec in part], Path(out_dir) / "checkpoints", device, _progress_lines)
                for (job, _), record in zip(part, ensemble.execute()):
                    record["job"] = job.key
                    records[job].append(record)
    for job, job_records in records.items():
        kept = job.chosen(job_records)
        for record in job_records:
            record["selected"] = record is kept
    return [(job, records[job]) for job in jobs]


def execute_unit(
    jobs: list[Job], out_dir: str, device: str, threads: int, members: int | None
) -> list[tuple[Job, list[dict]]]:
    """What one worker call trains: a single job on its own, or a task's jobs as ensembles."""
    if members == 1 and len(jobs) == 1:
        return [(jobs[0], execute_job(jobs[0], out_dir, device, threads))]
    return execute_jobs_ensembled(jobs, out_dir, device, threads, members)


def _by_task(jobs: list[Job]) -> list[list[Job]]:
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.task, []).append(job)
    return list(groups.values())


def default_members(device: str) -> int | None:
    """Ensemble size by device: on a GPU every run of a shape in one ensemble (None); on CPU one run at a time,
    because there the stacked step costs each member about what its own step costs (benchmarks/training.py: quick
    model, 2 cores, ensembles of 3-12 at 0.9-1.5x today's trainer per model, against 1.1-1.45x for a single packed
    run), and two worker processes already keep both cores busy."""
    return None if device.startswith("cuda") else 1


def _progress_lines(run: Run, loss: float, accuracy: float, seconds: float) -> None:
    """Inside a long run (the paper profile's 30k steps), a line every ten evaluations."""
    profile = run.spec.profile
    if run.step % (10 * profile.eval_every) == 0:
        print(
            f"    {run.spec.key}: step {run.step}/{run.step_limit}, loss {loss:.4f}, "
            f"held-out {accuracy * 100:.1f}% ({seconds:.0f}s)",
            flush=True,
        )


def plan(
    tasks: Iterable[str],
    pes: Iterable[str],
    seeds: int,
    profile: Profile,
    sweep: bool = False,
    rule: str = "heldout",
    data: str = "authors",
    protocol: tuple[str, int, str] = ("", 0, ""),
    data_dir: str | None = None,
) -> list[Job]:
    """The jobs of an experiment: each task × encoding × seed under the profile its run takes (`resolve.for_run`);
    with `data_dir`, on the lengths of the files' training set and test bins."""
    jobs = []
    for t in tasks:
        for pe in pes:
            resolved = for_run(profile, t, pe)
            if sweep:
                resolved = with_their_grid(resolved, t)
            if data_dir:
                resolved = _on_files(resolved, t, data, data_dir)
            jobs += [
                Job(t, pe, s, resolved, sweep, rule, data=data, protocol=protocol, data_dir=data_dir)
                for s in range(seeds)
            ]
    return jobs


def _on_files(profile: Profile, task: str, data: str, data_dir: str) -> Profile:
    from programs.tasks import get_task

    from .datasets import from_directory

    files = from_directory(data_dir, get_task(task, data))
    return profile.with_(train_lengths=files.train_lengths, test_bins=files.bin_lengths, training_set=len(files.train))


def run_jobs(
    jobs: list[Job],
    out_dir: Path,
    workers: int = 1,
    device: str = "cpu",
    backend: str = "local",
    log: Callable[[str], None] = lambda line: print(line, flush=True),
    ensemble: int | None = None,
    threads: int | None = None,
) -> list[RunRecord]:
    """Execute the jobs not yet recorded in out_dir/results.jsonl; append each job's records as it ends.

    `threads`: torch threads per run; None: every core with one worker, one per worker with several (two experiments
    side by side with a thread per core each oversubscribe the cores: about 12x slower on 2 cores).

    `ensemble`: how many runs of one shape train as one stacked model (experiments/length/ensemble.py); None: the device's
    default (every run of a shape on a GPU, one at a time on CPU, where stacking does not pay)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _refuse_mixing(jobs, out_dir)
    todo = _todo(jobs, out_dir, log)
    progress = _Progress(out_dir, len(todo), log)
    if not todo:
        return []
    members = ensemble if ensemble is not None else default_members(device)
    units = [[job] for job in todo] if members == 1 else _by_task(todo)  # what one worker call trains
    if backend == "ray":
        _run_ray(todo, out_dir, device, progress.record)
    else:
        _run_local(units, str(out_dir), device, workers, members, progress.unit_done, threads)
    if progress.failures:
        from rasp.errors import RaspError

        raise RaspError(f"{len(progress.failures)} job(s) failed:\n  " + "\n  ".join(progress.failures))
    return progress.results


def _todo(jobs: list[Job], out_dir: Path, log: Callable[[str], None]) -> list[Job]:
    """The jobs not recorded yet (a resumed run says how many were), noting recorded ones of other lengths."""
    done = finished_jobs(out_dir)
    todo = [j for j in jobs if j.key not in done]
    if len(todo) < len(jobs):
        log(f"resuming: {len(jobs) - len(todo)} of {len(jobs)} jobs already recorded in {out_dir / RESULTS}")
    other = [j.key for j in jobs if done.get(j.key) and done[j.key] != list(j.profile.test_bins)]
    if other:
        log(
            f"note: {len(other)} recorded job(s) ran on other input lengths than this profile gives them (e.g. "
            f"{other[0]}); they are kept, and the report shows them as rows of their own. Use another --out to rerun."
        )
    return todo


class _Progress:
    """Appends each finished job's records to results.jsonl at once (an interrupted run loses nothing finished)
    and logs a line per job with the time elapsed and an estimate of what is left; failed jobs are not recorded,
    so a rerun retries them."""

    def __init__(self, out_dir: Path, total: int, log: Callable[[str], None]):
        self.out_dir, self.total, self.log = out_dir, total, log
        self.started = time.perf_counter()
        self.finished = 0
        self.results: list[RunRecord] = []
        self.failures: list[str] = []

    def record(self, job: Job, outputs: list[dict], finished: int) -> None:
        records = [RunRecord.from_json(output | job.stamp) for output in outputs]
        append_records(self.out_dir, records)
        self.results.extend(records)
        final = records[-1]
        bins = " ".join(f"{b.accuracy * 100:5.1f}" for b in final.bins)
        elapsed = time.perf_counter() - self.started
        eta = elapsed / finished * (self.total - finished)
        self.log(
            f"[{finished}/{self.total}] {job.task:<26} {job.pe:<4} seed {job.seed}: "
            f"train {final.train_accuracy * 100:5.1f}%  bins {bins}  "
            f"({final.steps} steps, {final.seconds:.0f}s; elapsed {elapsed / 60:.1f} min, eta {eta / 60:.1f} min)"
        )

    def unit_done(self, unit: list[Job], outcome: Any) -> None:
        if isinstance(outcome, BaseException):  # one bad job must not lose the others
            for job in unit:
                self.failures.append(f"{job.key}: {type(outcome).__name__}: {outcome}")
                self.log(
                    f"job {job.key} failed ({type(outcome).__name__}: {outcome}); not recorded, so a rerun retries it"
                )
            return
        for job, records in outcome:
            self.finished += 1
            self.record(job, records, self.finished)


def _run_local(
    units: list[list[Job]],
    out_dir: str,
    device: str,
    workers: int,
    members: int,
    done: Callable[..., None],
    threads: int | None = None,
) -> None:
    """Each unit in this process (workers ≤ 1, all cores to it) or in a pool of single-threaded workers; `threads`
    overrides either."""
    if workers <= 1:
        for unit in units:
            try:
                outcome = execute_unit(unit, out_dir, device, threads or max(1, os.cpu_count() or 1), members)
            except Exception as error:  # noqa: BLE001 - one failed run is recorded; the others go on
                outcome = error
            done(unit, outcome)
        return
    # CUDA cannot be used in a forked child of a process that touched it: start GPU workers fresh.
    context = multiprocessing.get_context("spawn") if device.startswith("cuda") else None
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(execute_unit, unit, out_dir, device, threads or 1, members): unit for unit in units}
        while pending:
            complete, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in complete:
                unit = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as error:  # noqa: BLE001 - one failed run is recorded; the others go on
                    outcome = error
                done(unit, outcome)


def _refuse_mixing(jobs: list[Job], out_dir: Path) -> None:
    """A directory holds one protocol's runs: its report judges them by one rule."""

    from .records import read_records

    recorded = {r.protocol_hash for r in read_records(out_dir, selected_only=False, warn=False)}
    wanted = {job.protocol[2] for job in jobs}
    if recorded and recorded != wanted:

        def names(hashes: set[str]) -> str:
            return ", ".join(sorted(h or "no protocol" for h in hashes))

        raise RaspInputError(
            f"{out_dir} holds runs made under {names(recorded)}; these jobs run under {names(wanted)}. "
            "Use another --out: one directory, one protocol."
        )


def _run_ray(todo: list[Job], out_dir: Path, device: str, record) -> None:
    """The same jobs as Ray tasks: on a cluster when RAY_ADDRESS is set, else a local Ray instance."""
    try:
        import ray
    except ImportError:
        raise RaspInputError("the ray backend needs ray: pip install 'rasp-toolkit[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(execute_job)
    pending = {remote.remote(job, str(out_dir.resolve()), device, 1): job for job in todo}
    finished = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            finished += 1
            record(pending.pop(ref), ray.get(ref), finished)


def with_steps(profile: Profile, steps: int | None, full_schedule: bool = False) -> Profile:
    """The profile with another step budget; one that trains its whole schedule (quick) keeps doing so.

    `full_schedule` turns the early stop off: stopping at the first 100% reading can end training before the
    length-independent solution has settled (docs/experiments.md)."""
    if profile.per_run:  # each run's steps are resolved per task: the override waits until then (resolve.for_run)
        return replace(
            profile,
            steps_override=profile.steps_override if steps is None else steps,
            full_schedule=profile.full_schedule or full_schedule,
        )
    return profile.budget(steps, full_schedule)
