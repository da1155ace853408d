"""The experiment harness: runs, resume, the regularizer, the report. Tiny settings; real code paths."""

import json
import random
import time

import pytest

torch = pytest.importorskip("torch")

from experiments.length.profiles import QUICK, Architecture  # noqa: E402
from experiments.length.records import RunRecord  # noqa: E402
from experiments.length.report import GENERALIZES, agreeing_at, build_rows, write_report  # noqa: E402
from experiments.length.runner import RESULTS, finished_jobs, plan, run_jobs  # noqa: E402
from experiments.length.train import Run, RunSpec  # noqa: E402
from experiments.training.data import IGNORE, Vocabulary, collate  # noqa: E402
from experiments.training.steps import exact_match, position_regularizer  # noqa: E402
from programs.tasks import get_task  # noqa: E402
from rasp.errors import RaspInputError  # noqa: E402


def run_line(task, bins, accuracies, pe="ape", seed=0, profile="quick", examples=200, **fields) -> dict:
    """A results.jsonl line as a finished run writes it (only the fields a test cares about vary)."""
    return {
        "key": f"{task}/{pe}/s{seed}", "task": task, "pe": pe, "seed": seed, "profile": profile,
        "architecture": {"layers": 2, "heads": 2, "width": 64, "lr": 1e-3, "mlp_ratio": 2}, "steps": 10,
        "converged": True, "train_accuracy": 1.0, "seconds": 1.0,
        "bins": [{"bin": list(b), "accuracy": a, "examples": examples} for b, a in zip(bins, accuracies)],
    } | fields  # fmt: skip


def quick_bins(n: int) -> list[tuple[int, int]]:
    return [(1 + 16 * k, 16 * (k + 1)) for k in range(n)]


def write_lines(directory, lines) -> None:
    (directory / RESULTS).write_text("".join(json.dumps(line) + "\n" for line in lines))


TINY = QUICK.with_(
    train_lengths=(1, 6),
    test_bins=((1, 6), (7, 12)),
    architecture=Architecture(1, 2, 16, 1e-3),
    steps=12,
    batch_size=8,
    eval_examples=16,
    eval_every=6,
    extensions=0,  # the tests that need extensions or giving up set them
    give_up_below=0.0,
)


def test_collate_offsets_stay_inside_the_position_table():
    task = get_task("copy_unique")
    vocab = Vocabulary(task.vocabulary)
    rng = random.Random(0)
    examples = [task.sample(rng, 1, 6) for _ in range(32)]
    batch = collate(examples, vocab, rng, max_positions=40)
    assert batch.positions.max() < 40
    assert (batch.positions[:, 0] > 0).any()  # offsets happen
    for row, example in enumerate(examples):
        n = len(example.tokens)
        assert batch.positions[row, :n].tolist() == list(range(batch.positions[row, 0], batch.positions[row, 0] + n))
        scored = (batch.targets[row] != IGNORE).sum().item()
        assert scored == sum(t is not None for t in example.targets)
    plain = collate(examples, vocab)
    assert plain.positions[:, 0].eq(0).all()


def test_training_batches_take_random_offsets_only_where_the_profile_asks():
    # APE trains its position table through random offsets; a profile with position_offsets=False (zhou-quick v9)
    # trains every sequence from position 0, as tests read it; NoPE has no table to train
    def first_positions(pe: str, profile) -> list[int]:
        run = Run(RunSpec("copy_unique", pe, 0, profile, TINY.architecture))
        run.begin_training()
        return [run.next_batch().positions[:, 0].max().item() for _ in range(4)]

    assert max(first_positions("ape", TINY)) > 0
    assert first_positions("ape", TINY.with_(position_offsets=False)) == [0] * 4
    assert first_positions("nope", TINY) == [0] * 4


def test_exact_match_needs_every_scored_position():
    targets = torch.tensor([[IGNORE, 1, 2], [IGNORE, 1, 2]])
    logits = torch.zeros(2, 3, 3)
    logits[0, 1, 1] = logits[0, 2, 2] = 1
    logits[1, 1, 1] = logits[1, 2, 0] = 1
    assert exact_match(logits, targets).tolist() == [True, False]


def test_position_regularizer_matches_its_definition():
    spec = RunSpec("dyck_2", "reg", 0, TINY, TINY.architecture)
    model = Run(spec).model
    table = model.pos_emb.weight.detach()
    expected = 0.0
    for block in model.blocks:
        for h in range(block.attn.W_Q.shape[0]):
            logits = (table @ block.attn.W_Q[h].detach()) @ (table @ block.attn.W_K[h].detach()).T
            n = table.shape[0]
            per_key = [sum(logits[i, j] ** 2 for i in range(j, n)) for j in range(n)]
            expected += sum(per_key) / n
    assert position_regularizer(model).detach().item() == pytest.approx(float(expected), rel=1e-4)


def test_a_run_trains_evaluates_and_is_deterministic(tmp_path):
    spec = RunSpec("binary_majority", "ape", 3, TINY, TINY.architecture)
    first = Run(spec).execute()
    second = Run(spec).execute()
    assert [b["bin"] for b in first["bins"]] == [[1, 6], [7, 12]]
    assert all(0.0 <= b["accuracy"] <= 1.0 and b["examples"] == 16 for b in first["bins"])
    assert first["bins"] == second["bins"] and first["history"] == second["history"]


def test_early_stop_waits_for_min_steps():
    # stop_at 0: every evaluation qualifies, so the run ends at the first one past min_steps
    for min_steps, stopped_at in ((0, 6), (12, 12), (60, 60)):
        profile = TINY.with_(steps=60, min_steps=min_steps, stop_at=0.0)
        assert Run(RunSpec("binary_majority", "nope", 0, profile, TINY.architecture)).execute()["steps"] == stopped_at


def test_a_run_short_of_convergence_gets_its_extensions(tmp_path):
    never = TINY.with_(converged_at=1.01, stop_at=1.01)  # no run converges
    for extensions, extend_from, steps in ((2, 0.0, 36), (2, 1.01, 12), (0, 0.0, 12)):
        profile = never.with_(extensions=extensions, extend_from=extend_from)
        assert Run(RunSpec("binary_majority", "nope", 0, profile, TINY.architecture)).execute()["steps"] == steps
    # each extension restarts the linear schedule, from `extension_rate` times the peak
    rates = []
    profile = never.with_(extensions=1, extend_from=0.0, extension_rate=0.5)
    run = Run(RunSpec("binary_majority", "nope", 0, profile, TINY.architecture), tmp_path)
    run.progress = lambda r, *_: rates.append(r.optimizer.param_groups[0]["lr"] / TINY.architecture.lr)
    run.train()
    assert rates == pytest.approx([0.5, 0.5, 0.25, 0.5]) and run.step == 24
    # an extension interrupted half way (last checkpoint at step 18) resumes inside it and ends at step 24
    spec = RunSpec("binary_majority", "nope", 1, profile, TINY.architecture)
    interrupted = Run(spec, tmp_path)

    def interrupt(r, *_):
        if r.step == 24:
            raise KeyboardInterrupt

    interrupted.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        interrupted.train()
    resumed = Run(spec, tmp_path)
    assert resumed.resume() and resumed.step == 18
    resumed.train()
    assert resumed.step == 24 and [h["step"] for h in resumed.history] == [6, 12, 18, 24]


def test_a_run_that_learns_nothing_gives_up():
    hopeless = TINY.with_(steps=60, stop_at=1.01, give_up_below=1.01, give_up_after=0.4)  # every reading is "below"
    assert Run(RunSpec("binary_majority", "nope", 0, hopeless, TINY.architecture)).execute()["steps"] == 24
    patient = hopeless.with_(give_up_below=0.0)
    assert Run(RunSpec("binary_majority", "nope", 0, patient, TINY.architecture)).execute()["steps"] == 60


def test_interrupted_run_resumes_from_its_checkpoint(tmp_path):
    spec = RunSpec("parity", "nope", 0, TINY, TINY.architecture)
    run = Run(spec, tmp_path)

    def interrupt(r, *_):
        if r.step == 6:
            time.sleep(0.5)  # time spent before the interruption, which the resumed run's record must count
        if r.step == 12:
            raise KeyboardInterrupt  # after the checkpoint at step 6, before the one at 12

    run.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        run.train()
    resumed = Run(spec, tmp_path)
    assert resumed.resume() and resumed.step == 6 and not resumed.finished
    before = torch.load(run.checkpoint, weights_only=False)["seconds"]
    assert before >= 0.5 and resumed.seconds_before == before
    record = resumed.execute()
    assert record["resumed"] and record["steps"] == 12 and record["seconds"] > before


def test_a_run_that_stopped_early_is_not_trained_on_when_resumed(tmp_path):
    # an early stop (here at the first reading) whose result line was never written: resuming only evaluates
    spec = RunSpec("binary_majority", "nope", 0, TINY.with_(steps=60, min_steps=0, stop_at=0.0), TINY.architecture)
    run = Run(spec, tmp_path)
    run.train()
    assert run.step == 6 and run.finished
    resumed = Run(spec, tmp_path)
    assert resumed.resume() and resumed.finished
    record = resumed.execute()
    assert record["resumed"] and record["steps"] == 6 and len(record["history"]) == 1


def test_experiment_resumes_without_redoing_finished_jobs_and_reports(tmp_path):
    jobs = plan(["binary_majority", "copy_repeat"], ["ape", "nope"], 1, TINY)
    lines = []
    run_jobs(jobs[:2], tmp_path, log=lines.append)
    assert len(finished_jobs(tmp_path)) == 2
    lines.clear()
    run_jobs(jobs, tmp_path, log=lines.append)
    assert any("resuming: 2 of 4" in line for line in lines)
    assert not any("other input lengths" in line for line in lines)
    records = [json.loads(line) for line in (tmp_path / RESULTS).read_text().splitlines()]
    assert sorted(r["job"] for r in records) == sorted(j.key for j in jobs)  # each job once
    assert records[0]["train_lengths"] == [1, 6] and records[0]["max_steps"] == 12 and "min_steps" in records[0]
    lines.clear()  # the same jobs planned on other lengths: kept, and said so
    run_jobs(plan(["binary_majority"], ["ape"], 1, TINY.with_(test_bins=((1, 6), (7, 10)))), tmp_path, log=lines.append)
    assert any("1 recorded job(s) ran on other input lengths" in line for line in lines)

    # Make the outcome known, then check the report's arithmetic and files.
    for r in records:
        r["converged"] = True
        ok = r["task"] == "binary_majority"
        r["bins"][-1]["accuracy"] = 1.0 if ok else 0.1
    (tmp_path / RESULTS).write_text("\n".join(json.dumps(r) for r in records) + "\n")
    summary = write_report(tmp_path)
    assert summary["judged"] == 4 and summary["agreeing"] == 4  # majority ✓ generalizes, copy_repeat ✗ fails
    report = (tmp_path / "report.md").read_text()
    assert "(b) Observed against predicted**: 4/4" in report and f"{GENERALIZES * 100:.0f}%" in report
    assert (tmp_path / "report.csv").read_text().count("\n") == 5
    assert (tmp_path / "accuracy_by_length.png").stat().st_size > 1000
    assert (tmp_path / "training_curves.png").stat().st_size > 1000 and "(training_curves.png)" in report


def test_errors_by_position_reads_each_runs_checkpoint(tmp_path, capsys):
    import argparse

    from experiments.length.commands import cmd_errors

    run_jobs(plan(["aa_star"], ["ape"], 1, TINY), tmp_path, log=lambda line: None)

    def errors_args(rows: list[str], every_probe: bool) -> argparse.Namespace:
        flags = ("heads", "confusions", "maps", "reach", "shifted")
        return argparse.Namespace(
            dir=str(tmp_path), rows=rows, from_start=False, bin=-1, json=False, **dict.fromkeys(flags, every_probe)
        )

    args = errors_args(["aa_star:ape"], every_probe=True)
    assert cmd_errors(args, profile=TINY) == 0
    printed = capsys.readouterr().out
    assert "aa_star" in printed and "L0H1 attention by query-key distance" in printed and "7-12:" in printed
    assert "on the induction target:" in printed and "on its own token's earlier copies:" in printed
    around = "around the token's latest earlier copy (0: the copy, +1: the induction target) up to position 6: -2:"
    assert around in printed and "; past it: -2:" in printed  # a^12 on 6 trained positions
    assert "queries with an earlier copy of their token (lookup queries) answered wrong: " in printed
    assert (tmp_path / "attention_aa_star_ape_s0_bin1.png").stat().st_size > 1000  # --maps
    assert "as trained; with attention held to query-key distances up to 6 (BOS in reach): every layer" in printed
    assert "positions 7-14:" in printed and "commonest (target → answer)" in printed
    assert "at offset 0; " in printed and "with each input moved by a random position offset" in printed
    assert (tmp_path / "errors_by_position.png").stat().st_size > 1000
    from experiments.length.head_probes import attention_by_distance
    from experiments.length.probes import confusions_by_band, errors_by_position, run_from_record

    run = run_from_record(
        RunRecord.from_json(json.loads((tmp_path / RESULTS).read_text().splitlines()[0])), tmp_path, TINY
    )
    rates = errors_by_position(run, (7, 12), examples=20)
    assert len(rates) == 13 and all(0.0 <= r <= 1.0 for r in rates)  # inputs up to 12 and BOS
    (band,) = confusions_by_band(run, (7, 12), examples=20)  # positions past the training lengths (up to 6)
    assert band["positions"] == (7, 14) and band["wrong"] == sum(n for _, n in band["common"]) <= band["scored"]
    assert (band["wrong"] > 0) == any(r > 0 for r in rates[7:])  # the same inputs as errors_by_position
    bands = confusions_by_band(run, (7, 12), examples=20, from_start=True)
    assert [b["positions"][0] for b in bands] == [1, 9] and bands[0]["scored"] > 0
    with pytest.raises(RaspInputError, match="--bin 5"):
        cmd_errors(argparse.Namespace(**{**vars(args), "bin": 5}), profile=TINY)
    # every query's attention is on BOS or on keys in one of the distance bands (trained: up to 6)
    heads = attention_by_distance(run, (12, 12), examples=8).heads
    assert [h["head"] for h in heads] == ["L0H0", "L0H1"]
    batch = run.batch(random.Random(0), (12, 12), 8, offsets=False)  # a^12: every position is scored
    _, patterns = run.model(batch.ids, positions=batch.positions, return_attention=True)
    for head, to_bos in zip(heads, patterns[0][:, :, :, 0].mean(dim=(0, 2)).tolist()):
        bands = head["bands"]
        assert list(bands) == ["1-6", "7-12", ">12"] and bands[">12"]["share"] == 0  # inputs of 12: distances ≤ 12
        assert sum(b["share"] for b in bands.values()) + to_bos == pytest.approx(1.0, abs=1e-5)
        assert 0 < bands["7-12"]["share"] < 1 and 0 <= bands["1-6"]["even"] <= 1 and 0 <= bands["7-12"]["even"] <= 1
    for bad in (["aa_star"], ["aa_star:ape:x"], ["aa_star:ape:1"]):  # malformed, or a seed that did not run
        with pytest.raises(RaspInputError):
            cmd_errors(errors_args(bad, every_probe=False), profile=TINY)
    assert cmd_errors(errors_args(["aa_star:ape:0"], every_probe=False), profile=TINY) == 0
    # --json: one object per row on stdout, the same figures as the text (the plot's path goes to stderr)
    capsys.readouterr()
    assert cmd_errors(argparse.Namespace(**{**vars(args), "json": True, "maps": False}), profile=TINY) == 0
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()
    probe = json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert probe["heads"][0]["bands"][">12"]["even"] is None  # a share of no attention: null, not NaN
    assert (probe["task"], probe["pe"], probe["seed"], probe["lengths"], probe["last_trained"]) == (
        "aa_star", "ape", 0, [7, 12], 6,
    )  # fmt: skip
    assert [h["head"] for h in probe["heads"]] == ["L0H0", "L0H1"] and set(probe["lookups"]) >= {"within", "beyond"}
    assert probe["positions_wrong"] == sum(r > 0 for r in probe["error_rates"]) and "as trained" in probe["reach"]
    assert set(probe["shifted"]) == {"offset 0", "shifted"}
    assert all(len(c) == 3 for band in probe["confusions"] for c in band["common"])
    assert "errors_by_position.png" in captured.err


def test_a_sweep_report_names_the_kept_model_and_counts_every_run(tmp_path):
    def record(arch, converged, seconds):
        architecture = {"layers": arch[0], "heads": arch[1], "width": 64, "lr": 1e-3, "mlp_ratio": 2}
        return run_line("binary_majority", quick_bins(2), [1.0, 0.9], job="j", architecture=architecture,
                        converged=converged, train_accuracy=1.0 if converged else 0.5, seconds=seconds,
                        selected=converged)  # fmt: skip

    lines = [record((1, 2), False, 60.0), record((2, 2), True, 120.0)]
    write_lines(tmp_path, lines)
    write_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "Compute: 3.0 minutes" in report  # the discarded L1 run's minute counted
    assert "| model |" not in report  # one model kept: no column
    lines.append(record((1, 2), True, 30.0) | {"task": "majority"})
    write_lines(tmp_path, lines)
    write_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "| task | pe | model |" in report and "| binary_majority | APE | L2H2W64lr0.001 |" in report
    assert "| majority | APE | L1H2W64lr0.001 |" in report
    lines.append(record((1, 2), True, 30.0) | {"task": "mode"})  # Zhou et al.'s task: leaves the three figures
    write_lines(tmp_path, lines)
    write_report(tmp_path)
    assert "(b) Observed against predicted**: 2/2 = 100%" in (tmp_path / "report.md").read_text()
    assert "L2H2W64lr0.001" in (tmp_path / "report.csv").read_text()


def test_agreement_read_at_each_bin():
    def record(task, accuracies):
        return RunRecord.from_json(run_line(task, quick_bins(3), accuracies))

    # binary_majority is predicted ✓ and holds at 2× only; copy_repeat is predicted ✗ and fails at both
    rows = build_rows([record("binary_majority", [1.0, 0.9, 0.5]), record("copy_repeat", [1.0, 0.2, 0.1])])
    assert [agreeing_at(rows, k) for k in (1, 2)] == [2, 1]


def test_a_disagreement_the_paper_measured_at_a_shorter_extrapolation_says_so(tmp_path):
    def record(task, accuracies):
        return run_line(task, quick_bins(3), accuracies)

    lines = [record("aa_star", [1.0, 0.89, 0.0]), record("abab_star", [1.0, 0.26, 0.0]), record("sort", [1, 1, 0.5])]
    write_lines(tmp_path, lines)
    write_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    # (aa)*: the authors' code trained on 2-100 and tested up to 200, so our 2x bin is the comparable one
    assert "only up to 2× (trained on 2–100, tested on 101–150 / 150–200); here, at 17–32: 89.0%." in report
    assert "only up to 1.4× (trained on 4–500, tested on 501–600 / 600–700); no bin here is that short." in report
    sort_line = next(line for line in report.splitlines() if line.startswith("- **sort"))
    assert "only up to" not in sort_line  # algorithmic tasks: 150/50, as far as ours
    assert "| sort | APE | ✓ | ✓ | 100.0 / 100.0 / 50.0 | [43, 57] | 100.0 / 100.0 / 99.4 | 3× |" in report
    assert "trained on 2–100, tested on 101–150 / 150–200 (up to 2x)" in (tmp_path / "report.csv").read_text()


def test_the_paper_profile_runs_each_formal_language_on_the_papers_lengths_for_it(tmp_path):
    from experiments.length.profiles import PAPER

    jobs = {j.task: j for j in plan(["sort", "abab_star", "tomita_5"], ["ape"], 1, PAPER)}
    assert jobs["sort"].profile.test_bins == (
        (0, 50),
        (51, 100),
        (101, 150),
    )  # algorithmic: the paper's 0-50 / 51-100 / 101-150
    assert jobs["abab_star"].profile.train_lengths == (4, 500)  # the authors' code: 4-500, tested up to 700
    assert jobs["abab_star"].profile.test_bins == ((4, 500), (501, 600), (600, 700))
    assert jobs["tomita_5"].profile == PAPER  # no lengths known for it: the profile's own
    # the authors' longer bins for {0,1,2}*02* start at 2 (a third training-length data): ours stay disjoint
    assert PAPER.for_task("zot_02") == PAPER
    assert QUICK.for_task("abab_star") is QUICK  # the quick profile keeps one set of bins

    def record(task, bins, accuracies):
        return run_line(task, bins, accuracies, profile="paper", examples=2000)

    lines = [
        record("sort", [[0, 50], [51, 100], [101, 150]], [1.0, 1.0, 0.99]),
        record("aa_star", [[2, 100], [101, 150], [150, 200]], [1.0, 1.0, 0.5]),
    ]
    (tmp_path / RESULTS).write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    write_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "| input lengths |" in report and "accuracy % (per bin)" in report
    assert (
        "| aa_star | APE | 2–100 / 101–150 / 150–200 | ✓ | ✓ | 100.0 / 100.0 / 50.0 | [48, 52] | 100.0 / 100.0 / 100.0 | 2× |"
        in report
    )
    assert "bin 1: 2/2, bin 2: 1/2" in report


def test_rows_judged_at_the_papers_own_extrapolation(tmp_path):
    from experiments.length.paper_scale import paper_scaled_bin, write_paper_extrapolation
    from experiments.length.predictions import paper_lengths

    assert paper_scaled_bin(16, paper_lengths("abab_star")) == (20, 22)  # the paper: 600-700 after 4-500
    assert paper_scaled_bin(16, paper_lengths("aa_star")) == (24, 32)  # 150-200 after 2-100
    assert paper_scaled_bin(16, paper_lengths("sort")) == (33, 48)  # 101-150 after 0-50
    assert paper_scaled_bin(16, paper_lengths("zot_02")) == (17, 48)  # 2-150 after 2-50: training lengths left out
    assert paper_lengths("tomita_5") is None and paper_lengths("count") is None  # such rows are left out
    records = run_jobs(plan(["aa_star"], ["ape"], 1, TINY), tmp_path, log=lambda line: None)
    write_lines(tmp_path, [r.to_json() | {"converged": True} for r in records])
    summary = write_paper_extrapolation(tmp_path, examples=20)
    (row,) = summary["rows"]
    assert row["bin"] == (9, 12)  # TINY trains on 1-6
    assert 0 <= row["accuracy"] <= 1 and row["agrees"] == (row["accuracy"] >= GENERALIZES)
    assert "| aa_star | APE | ✓ | 2× | 9–12 |" in (tmp_path / "paper_extrapolation.md").read_text()


@pytest.mark.slow  # starting Ray takes a while; run with -m slow where ray is installed
def test_ray_backend_runs_the_same_jobs(tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        jobs = plan(["tomita_1"], ["ape", "nope"], 1, TINY)
        records = run_jobs(jobs, tmp_path, backend="ray", log=lambda line: None)
    finally:
        ray.shutdown()
    assert sorted(r.job for r in records) == sorted(j.key for j in jobs)
    local = run_jobs(jobs[:1], tmp_path / "local", log=lambda line: None)
    assert local[0].bins == next(r for r in records if r.job == jobs[0].key).bins  # same job, same result


def test_a_checkpoint_from_another_model_is_set_aside(tmp_path):
    spec = RunSpec("parity", "ape", 0, TINY, TINY.architecture)
    run = Run(spec, tmp_path)
    run.save()
    wider = Architecture(1, 2, 32, 1e-3)
    other = Run(RunSpec("parity", "ape", 0, TINY, wider), tmp_path)
    other.checkpoint = run.checkpoint  # same file, different shapes
    assert not other.resume()
    assert run.checkpoint.with_suffix(".stale").exists() and not run.checkpoint.exists()


def test_a_checkpoint_trained_on_other_lengths_is_set_aside(tmp_path):
    run = Run(RunSpec("parity", "nope", 0, TINY, TINY.architecture), tmp_path)  # NoPE: same shapes at any length
    run.save()
    longer = TINY.with_(train_lengths=(1, 5), test_bins=((1, 5), (7, 12)))
    other = Run(RunSpec("parity", "nope", 0, longer, TINY.architecture), tmp_path)
    assert other.checkpoint == run.checkpoint and not other.resume()
    assert run.checkpoint.with_suffix(".stale").exists()
    again = Run(RunSpec("parity", "nope", 0, longer, TINY.architecture), tmp_path)
    again.save()
    assert again.resume()  # its own lengths: resumed


def test_runs_on_other_lengths_are_rows_of_their_own(tmp_path):
    def record(bins, accuracies, seed):
        return RunRecord.from_json(run_line("tomita_2", bins, accuracies, seed=seed, profile="paper"))

    old, new = [[0, 50], [51, 100], [101, 150]], [[1, 100], [101, 150]]
    rows = build_rows([record(old, [1, 1, 0.95], 0), record(new, [1, 0.5], 1), record(old, [1, 1, 0.85], 2)])
    assert [(r.bins, r.converged, r.accuracies[-1]) for r in rows] == [
        ([(0, 50), (51, 100), (101, 150)], 2, pytest.approx(0.9)),
        ([(1, 100), (101, 150)], 1, 0.5),
    ]
    assert [agreeing_at(rows, k) for k in (1, 2)] == [1, 1]  # a row with fewer bins is left out at bin 2
    write_lines(tmp_path, [record(old, [1, 1, 0.9], 0).to_json(), record(new, [1, 0.5], 1).to_json()])
    write_report(tmp_path)  # rows with different numbers of bins: no per-bin agreement line, no crash
    assert "| tomita_2 | APE | 1–100 / 101–150 |" in (tmp_path / "report.md").read_text()


def test_a_step_override_keeps_the_quick_profile_on_its_whole_schedule():
    from experiments.length.runner import with_steps

    assert with_steps(QUICK, 1000).min_steps == 1000
    assert with_steps(TINY.with_(steps=60, min_steps=12), 30).min_steps == 12
    assert with_steps(TINY.with_(steps=60, min_steps=12), 6).min_steps == 6
    assert with_steps(TINY.with_(steps=60, min_steps=12), None) == TINY.with_(steps=60, min_steps=12)
    assert with_steps(TINY.with_(steps=60, min_steps=12), None, full_schedule=True).min_steps == 60
    assert with_steps(TINY.with_(steps=60, min_steps=12), 30, full_schedule=True).min_steps == 30


def test_run_jobs_as_ensembles_records_what_single_runs_record(tmp_path):
    jobs = plan(["parity"], ["ape", "nope"], 2, TINY)
    alone = run_jobs(jobs, tmp_path / "alone", log=lambda line: None, ensemble=1)
    together = run_jobs(jobs, tmp_path / "together", log=lambda line: None, ensemble=4)
    by_key = {r.key: r for r in together}
    assert len(together) == len(alone) == 4
    for record in alone:
        other = by_key[record.key]
        assert other.steps == record.steps and other.job == record.job
        assert [b.bin for b in other.bins] == [b.bin for b in record.bins]
        assert [b.accuracy for b in other.bins] == pytest.approx([b.accuracy for b in record.bins], abs=0.07)


def test_a_truncated_checkpoint_is_set_aside_and_the_run_starts_afresh(tmp_path):
    run = Run(RunSpec("parity", "nope", 0, TINY, TINY.architecture), tmp_path)
    run.save()
    run.checkpoint.write_bytes(run.checkpoint.read_bytes()[:100])  # killed mid-write by something other than us
    again = Run(RunSpec("parity", "nope", 0, TINY, TINY.architecture), tmp_path)
    assert not again.resume() and run.checkpoint.with_suffix(".unreadable").exists()
    assert again.execute()["steps"] == TINY.steps  # trained from the start, and recorded


def test_the_induction_target_is_the_key_after_the_query_tokens_latest_earlier_occurrence():
    import torch

    from experiments.length.head_probes import _induction_targets

    # BOS a b c SEP a b c: the query at 5 (token a) would copy what followed a at 1, i.e. key 2; at 6 (b), key 3
    ids = torch.tensor([[0, 5, 6, 7, 1, 5, 6, 7]])
    scored = torch.tensor([[False, False, False, False, True, True, True, True]])
    target, has_target, same_token = _induction_targets(ids, scored)
    assert has_target.tolist() == [[False, False, False, False, False, True, True, True]]  # SEP occurs nowhere before
    assert target[0, 5:].tolist() == [2, 3, 4]
    assert same_token[0, 6].nonzero().flatten().tolist() == [2]  # a matching head's keys: b's earlier copy
    repeated = torch.tensor([[0, 5, 5, 1, 5]])  # the latest earlier occurrence counts: for the query at 4, key 2 + 1
    target, has_target, same_token = _induction_targets(repeated, torch.ones_like(repeated, dtype=torch.bool))
    assert target[0, 4] == 3 and has_target[0].tolist() == [False, False, True, False, True]
    assert same_token[0, 4].nonzero().flatten().tolist() == [1, 2]  # every earlier copy, BOS and itself left out


def test_attention_around_a_copy_is_read_at_offsets_from_the_latest_earlier_copy():
    import torch

    from experiments.length.head_probes import AROUND_COPY, _around_copy, _induction_targets

    ids = torch.tensor([[0, 5, 6, 7, 5, 6]])  # the queries at 4 and 5 have earlier copies at 1 and 2
    target, has_target, _ = _induction_targets(ids, torch.ones_like(ids, dtype=torch.bool))
    pattern = torch.zeros(1, 6, 6)
    for q in range(6):
        pattern[0, q, max(q - 2, 0)] = 1.0  # every query attends two back: one past its copy, for 4 and 5
    shares = dict(zip(AROUND_COPY, _around_copy(pattern, target)))
    assert [float(shares[o][0, 4]) for o in AROUND_COPY] == [0, 0, 0, 1, 0, 0]  # +1: the induction target
    assert float(shares[1][0, 5]) == 1 and has_target[0].tolist()[4:] == [True, True]
    assert float(shares[3][0, 4]) == 0  # the copy + 3 is the query's own position + 0: valid, and not attended
    assert float(shares[-2][0, 4]) == 0  # key -1: not a key at all


def test_a_hinted_tasks_matching_share_is_split_between_hint_queries_and_the_rest(tmp_path):
    from experiments.length.head_probes import attention_by_distance

    profile = TINY.with_(train_lengths=(2, 3), test_bins=((2, 3), (4, 5)))
    run = Run(RunSpec("addition_hints", "ape", 0, profile, TINY.architecture), tmp_path)  # untrained: any attention
    probe = attention_by_distance(run, (4, 4), examples=8)
    heads = probe.heads
    batch = run.batch(random.Random(0), (4, 4), 8, offsets=False)  # the probe's own inputs
    with torch.no_grad():
        _, patterns = run.model.eval()(batch.ids, positions=batch.positions, return_attention=True)
    tokens = [[run.vocab.tokens[i] for i in row] for row in batch.ids.tolist()]
    for h, head in enumerate(heads):  # one layer
        pattern = patterns[0][:, h]
        shares = {"hint": [], "other": []}  # per scored query with an earlier copy of its token: the share on those
        uniform = {"hint": [], "other": []}
        for b, row in enumerate(tokens):
            for q in range(len(row)):
                copies = [k for k in range(1, q) if row[k] == row[q]]
                if batch.targets[b, q] != IGNORE and copies:
                    part = "hint" if row[q].startswith("h") else "other"
                    shares[part].append(float(pattern[b, q, copies].sum()))
                    uniform[part].append(len(copies) / (q + 1))  # BOS and every key up to the query's own
        assert shares["hint"] and shares["other"]  # a hinted answer alternates hints and digits
        for got, parts in ((head["same_token"], shares), (head["same_token_uniform"], uniform)):
            expected = {part: sum(v) / len(v) for part, v in parts.items()}
            expected["all"] = sum(parts["hint"] + parts["other"]) / len(parts["hint"] + parts["other"])
            assert got == pytest.approx(expected, abs=1e-5)
    assert all(len(head["around_copy"]["within"]) == 6 for head in heads)  # the hint queries', offsets -2..+3
    counts = probe.lookups_wrong  # the same inputs: the hint queries with an earlier copy
    assert counts["all"][1] == len(shares["hint"]) == counts["within"][1] + counts["beyond"][1]
    assert counts["all"][0] == counts["within"][0] + counts["beyond"][0] <= counts["all"][1]
    plain = Run(RunSpec("aa_star", "ape", 0, TINY, TINY.architecture), tmp_path)
    assert all(set(h["same_token"]) == {"all"} for h in attention_by_distance(plain, (4, 4), examples=4).heads)


def test_holding_attention_to_a_reach_masks_the_keys_further_back_but_bos(tmp_path):
    import torch

    from experiments.length.probes import within_reach

    run = Run(RunSpec("aa_star", "ape", 0, TINY, TINY.architecture), tmp_path)  # untrained: attention everywhere
    ids = torch.zeros(1, 10, dtype=torch.long)
    attention = run.model.blocks[0].attn
    with torch.no_grad():
        _, (free,) = run.model(ids, return_attention=True)
        attention.reach = 3
        _, (held,) = run.model(ids, return_attention=True)
        attention.reach = None
    distance = torch.arange(10).unsqueeze(1) - torch.arange(10).unsqueeze(0)
    beyond = (distance > 3) & (torch.arange(10) > 0)  # BOS (key 0) stays in reach
    assert float(free[0][:, beyond].min()) > 0 and float(held[0][:, beyond].abs().max()) == 0
    assert float(held[0][:, :, 0].min()) > 0 and torch.allclose(held[0].sum(-1), torch.ones(2, 10))
    # within_reach sets and clears it: as trained on inputs no longer than training's, no reach changes anything
    rates = within_reach(run, (1, 6), examples=16)
    assert set(rates) == {"as trained", "every layer", "layer 0 only"} and len(set(rates.values())) == 1
    assert attention.reach is None


def test_threads_sets_the_torch_threads_of_a_run_in_this_process(tmp_path):
    # two experiments side by side, each with a thread per core, oversubscribe the cores; --threads 1 is the remedy
    import torch

    before = torch.get_num_threads()
    try:
        run_jobs(plan(["aa_star"], ["ape"], 1, TINY), tmp_path, workers=1, threads=1, log=lambda line: None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_the_shifted_probe_moves_inputs_only_within_the_trained_positions(monkeypatch):
    # the shifted inputs stay inside the trained rows, so that the probe tests reading absolute positions, not
    # untrained rows; a model without position information answers alike at any offset
    import experiments.training.data as data
    from experiments.length import probes

    run = Run(RunSpec("copy_unique", "ape", 0, TINY, TINY.architecture))
    with torch.no_grad():
        run.model.pos_emb.weight.zero_()
    original, highest = data.collate, []

    def watched(examples, vocab, rng=None, max_positions=None):
        batch = original(examples, vocab, rng, max_positions)
        highest.append(batch.positions.max().item())
        return batch

    monkeypatch.setattr(data, "collate", watched)
    result = probes.shifted(run, (1, 6), examples=32)
    assert result["offset 0"] == result["shifted"]
    assert len(highest) == 2 and max(highest) <= probes.last_trained_position(run)
