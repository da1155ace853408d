"""Pre-registered protocols, run records and intervals: the pieces a report's figures rest on."""

import json

import pytest

pytest.importorskip("torch")

from experiments.length import protocol as protocols  # noqa: E402
from experiments.length.records import RESULTS, RunRecord, append_records, finished_jobs, read_records  # noqa: E402
from experiments.length.report import protocol_of, write_report  # noqa: E402
from experiments.length.stats import judge, wilson  # noqa: E402
from rasp.errors import RaspInputError  # noqa: E402


def test_wilson_matches_known_values_and_stays_inside_0_1():
    # Reference values from the closed form (Wilson 1927), checked by hand: 0/10 -> [0, 0.2775], 5/10 -> [0.2366, 0.7634]
    assert wilson(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-4)
    assert wilson(200, 200)[1] == 1.0 and wilson(200, 200)[0] == pytest.approx(0.98116, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)  # no data: no information


def test_a_row_is_undecided_when_its_interval_straddles_the_criterion():
    assert judge(wilson(190, 200), 0.8) is True
    assert judge(wilson(100, 200), 0.8) is False
    assert judge(wilson(160, 200), 0.8) is None  # 80% measured on 200: could be either side
    assert judge(wilson(8, 10), 0.8) is None


def _line(task="binary_majority", seed=0, **fields) -> dict:
    return {
        "key": f"{task}/ape/s{seed}", "task": task, "pe": "ape", "seed": seed, "profile": "quick",
        "architecture": {"layers": 1, "heads": 1, "width": 16, "lr": 1e-3}, "steps": 5, "converged": True,
        "train_accuracy": 1.0, "seconds": 1.0,
        "bins": [{"bin": [1, 16], "accuracy": 1.0, "examples": 100}, {"bin": [17, 32], "accuracy": 0.95, "examples": 100}],
    } | fields  # fmt: skip


def test_records_round_trip_and_bad_lines_are_skipped_not_fatal(tmp_path, capsys):
    record = RunRecord.from_json(_line())
    append_records(tmp_path, [record])
    with open(tmp_path / RESULTS, "a") as f:
        f.write("{}\n[1, 2]\n" + json.dumps(_line(bins=[{"bin": [1]}])) + "\n" + '{"key": "cut sh')
    (read,) = read_records(tmp_path)
    assert read == record and read.bins[1].correct == 95
    assert "skipped 4 line(s)" in capsys.readouterr().err
    assert finished_jobs(tmp_path) == {record.key: [(1, 16), (17, 32)]}


def test_a_results_path_that_is_not_a_file_is_a_clear_error(tmp_path):
    (tmp_path / RESULTS).mkdir()
    with pytest.raises(RaspInputError, match="found a directory"):
        read_records(tmp_path)
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / RESULTS).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RaspInputError, match="not UTF-8"):
        read_records(tmp_path / "binary")


def _registry(tmp_path, **changes) -> tuple:
    entry = {
        "version": 1, "date": "2026-11-28", "reason": "test", "profile": "quick", "suite": "huang",
        "encodings": ["ape", "nope"], "data": "authors", "selection": "heldout", "seeds": 3,
        "examples_per_bin": 500, "criterion": 0.8, "deciding_bin": -1,
    } | changes  # fmt: skip
    path = tmp_path / "protocols.json"
    path.write_text(json.dumps({"protocols": {"t": [entry]}}))
    return path, entry


def test_a_protocol_pins_its_profile_and_refuses_to_run_once_it_changed(tmp_path, monkeypatch):
    path, entry = _registry(tmp_path)
    unregistered = protocols.get_protocol("t", path=path)
    with pytest.raises(RaspInputError, match="Register a new version"):
        unregistered.check()  # no hash registered yet
    path.write_text(json.dumps({"protocols": {"t": [entry | {"profile_hash": unregistered.hash}]}}))
    registered = protocols.get_protocol("t", path=path)
    registered.check()
    assert registered.resolved_profile().eval_examples == 500
    changed = registered.resolved_profile().with_(steps=1)  # the profile edited in code after registration
    monkeypatch.setitem(protocols.PROFILES, "quick", changed)
    with pytest.raises(RaspInputError, match="changed after registration"):
        registered.check()


def test_the_registry_rejects_incomplete_or_unordered_versions(tmp_path):
    path, entry = _registry(tmp_path)
    del entry["seeds"]
    path.write_text(json.dumps({"protocols": {"t": [entry]}}))
    with pytest.raises(RaspInputError, match="lacks seeds"):
        protocols.load_protocols(path)
    path, entry = _registry(tmp_path, data="whatever")
    with pytest.raises(RaspInputError, match="data must be one of"):
        protocols.load_protocols(path)
    path, entry = _registry(tmp_path)
    path.write_text(json.dumps({"protocols": {"t": [entry | {"version": 2}, entry]}}))
    with pytest.raises(RaspInputError, match="in order"):
        protocols.load_protocols(path)


def test_a_report_refuses_to_mix_protocols_and_opens_with_the_one_it_judges(tmp_path, monkeypatch):
    path, entry = _registry(tmp_path)
    digest = protocols.get_protocol("t", path=path).hash
    path.write_text(json.dumps({"protocols": {"t": [entry | {"profile_hash": digest}]}}))
    monkeypatch.setattr(protocols, "PROTOCOLS_FILE", path)
    monkeypatch.setattr(protocols.find_by_hash, "__defaults__", (path,))
    stamp = {"protocol": "t", "protocol_version": 1, "protocol_hash": digest}
    lines = [_line(seed=s, **stamp) for s in range(3)]
    (tmp_path / RESULTS).write_text("".join(json.dumps(line) + "\n" for line in lines))
    write_report(tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert report.splitlines()[2].startswith(f"**Protocol t v1** (hash `{digest}`")
    assert "(b) Observed against predicted**: 1/1" in report and "[92, 97]" in report  # 285/300 pooled
    with open(tmp_path / RESULTS, "a") as f:
        f.write(json.dumps(_line(seed=9)) + "\n")  # a run made without the protocol
    with pytest.raises(RaspInputError, match="mix runs made under different protocols"):
        protocol_of(read_records(tmp_path))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--protocol", "no-such"], "unknown protocol 'no-such'"),
        (["--protocol", "x:one"], "expected NAME or NAME:VERSION"),
        (["--protocol", "x", "--seeds", "3", "--pe", "ape"], "--protocol fixes --pe, --seeds"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--workers", "-1"], "--workers must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--data", "mine"], "unknown data 'mine'"),
    ],
)
def test_experiment_options_are_checked_before_anything_runs(argv, message, capsys, tmp_path):
    from rasp_cli import main

    assert main(["experiment", "parity", "--out", str(tmp_path), *argv]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / RESULTS).exists()


def test_experiment_trains_and_tests_on_a_directory_in_the_authors_format(tmp_path, capsys):
    from rasp_cli import main

    # generated_ds/<lang>/ as the authors ship it: one string per line, targets a chunk per symbol (written by hand
    # here for tomita_2 = (10)*: after each symbol, "may 0 follow" and "may 1 follow", y/n)
    data = tmp_path / "Tomita-2"
    data.mkdir()
    train, bins = ["10", "1010", "101010"], [["10", "1010"], ["10101010", "1010101010"]]

    def targets(string: str) -> str:
        return "".join("yn" if symbol == "1" else "ny" for symbol in string)

    for name, strings in [("train_{}", train), *((f"val_{{}}_bin{i}", b) for i, b in enumerate(bins))]:
        (data / f"{name.format('src')}.txt").write_text("\n".join(strings))
        (data / f"{name.format('tgt')}.txt").write_text("\n".join(targets(s) for s in strings))
    out = tmp_path / "out"
    assert (
        main(["experiment", "tomita_2", "--data-dir", str(data), "--steps", "6", "--pe", "ape", "--out", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    assert "observed against predicted, " in printed and f"wrote {out / 'report.md'}, {out / 'report.csv'}" in printed
    assert "zhou_accuracy_by_length.png" not in printed  # a plot it did not write is not named
    (record,) = read_records(out)
    assert record.data_dir == str(data) and record.train_lengths == (2, 6)
    assert [(b.bin, b.examples) for b in record.bins] == [((2, 4), 2), ((8, 10), 2)]
    assert main(["experiment", "tomita_2", "tomita_1", "--data-dir", str(data), "--out", str(tmp_path / "x")]) == 1


def test_every_registered_protocol_matches_the_code_it_was_registered_for():
    # a profile, regime file or resolution rule edited after registration fails here: register a new version first.
    # Every version, not only the latest: a committed report finds its protocol by the hash its runs recorded.
    for versions in protocols.load_protocols().values():
        for version in versions:
            version.check()


def test_a_version_with_a_scope_runs_only_its_tasks_and_the_cli_holds_to_them(tmp_path, capsys):
    from rasp_cli import main

    path, entry = _registry(tmp_path, suite="zhou", profile="zhou-quick", selection="fixed", deciding_bin=1)
    whole = protocols.get_protocol("t", path=path)
    path.write_text(json.dumps({"protocols": {"t": [entry | {"scope": ["zhou_copy_repeat", "mode"]}]}}))
    scoped = protocols.get_protocol("t", 1, path=path)
    assert scoped.tasks() == ["mode", "zhou_copy_repeat"] and len(whole.tasks()) == 11  # the suite's order
    assert scoped.hash != whole.hash and "tasks zhou_copy_repeat, mode only" in scoped.describe()[0]
    path.write_text(json.dumps({"protocols": {"t": [entry | {"scope": ["parity"]}]}}))  # Huang et al.'s task
    with pytest.raises(RaspInputError, match="scope names tasks outside its suite"):
        protocols.load_protocols(path)
    # the registered zhou-quick v2 refuses a task outside its scope before anything runs
    assert main(["experiment", "mode", "--protocol", "zhou-quick:2", "--out", str(tmp_path / "x")]) == 1
    assert "runs zhou_copy_unique, zhou_copy_repeat; not mode" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_bare_name_whose_latest_version_runs_some_rows_refuses_and_lists_the_versions(tmp_path, capsys):
    from rasp_cli import main

    path, entry = _registry(tmp_path)
    versions = [entry, entry | {"version": 2, "scope": ["majority"]}, entry | {"version": 3, "encodings": ["nope"]}]
    for latest in (2, 3):
        path.write_text(json.dumps({"protocols": {"t": versions[:latest]}}))
        with pytest.raises(
            RaspInputError, match=r"name the version you mean: t:1 \(the whole huang suite; ape, nope\)"
        ):
            protocols.get_protocol("t", path=path)
        assert protocols.get_protocol("t", latest, path=path).version == latest
    path.write_text(json.dumps({"protocols": {"t": [entry, entry | {"version": 2}]}}))
    assert protocols.get_protocol("t", path=path).version == 2  # a whole-suite latest version: the bare name is it
    assert main(["experiment", "--protocol", "zhou-quick", "--out", str(tmp_path / "x")]) == 1  # the registered one
    assert "zhou-quick:6 (zhou_copy_unique, zhou_copy_repeat; nope)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_damaged_wall_time_file_neither_crashes_the_experiment_nor_the_report(tmp_path):
    from experiments.length.wall_clock import WallClock, read_wall_seconds

    (tmp_path / "wall_seconds.json").write_text('{"wall_seconds": ')  # cut short by a kill
    assert read_wall_seconds(tmp_path) is None
    with WallClock(tmp_path):
        pass
    first = read_wall_seconds(tmp_path)
    assert first is not None and 0 <= first < 5  # the count starts afresh
    (tmp_path / RESULTS).write_text(json.dumps(_line()) + "\n")
    (tmp_path / "wall_seconds.json").write_bytes(b"\xff\x00")
    write_report(tmp_path)  # the wall time is lost, the report is not
    assert "Compute:" in (tmp_path / "report.md").read_text()


def test_the_wall_clock_adds_each_process_and_writes_while_it_runs(tmp_path):
    # a process killed without warning (a session cut off) runs no exit code: the count must already be on disk
    import time

    from experiments.length.wall_clock import WallClock, read_wall_seconds

    (tmp_path / "wall_seconds.json").write_text('{"wall_seconds": 100.0}')  # an earlier process's
    with WallClock(tmp_path, every=0.05):
        time.sleep(0.3)
        during = read_wall_seconds(tmp_path)
        assert during is not None and 100.05 <= during < 100.3  # written while the block still runs
    after = read_wall_seconds(tmp_path)
    assert after is not None and 100.3 <= after < 105
    assert not (tmp_path / "wall_seconds.tmp").exists()


def test_the_authors_selection_rule_stops_and_chooses_as_their_sweep_did():
    from experiments.length.profiles import QUICK
    from experiments.length.runner import Job

    job = Job("sort", "ape", 0, QUICK, sweep=True, rule="authors")
    held_out = Job("sort", "ape", 0, QUICK, sweep=True)

    def run(train, second, converged=True):
        return {"converged": converged, "bins": [{"accuracy": train}, {"accuracy": second}, {"accuracy": 0.0}]}

    fits_only, both = run(1.0, 0.9), run(1.0, 1.0)
    assert not job.done_sweeping(fits_only) and job.done_sweeping(both)  # it reads the second bin
    assert held_out.done_sweeping(fits_only)  # ours reads held-out training-length data only
    swept = [run(0.5, 0.1, False), run(1.0, 0.7), run(1.0, 0.95), run(1.0, 0.95), run(0.9, 0.99, False)]
    assert job.chosen(swept) is swept[2]  # the best second bin among those that fit, the earliest on a tie
    assert job.chosen([run(0.5, 0.2, False), run(0.6, 0.3, False)])["bins"][0]["accuracy"] == 0.6  # none fit: largest
    assert job.selection == "authors" and "sweep-authors" in job.key and held_out.selection == "heldout"


def test_rasp_version_and_a_report_that_prints_its_figures_not_its_tables(tmp_path, capsys):
    from rasp_cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("rasp-toolkit ")
    (tmp_path / RESULTS).write_text(json.dumps(_line()) + "\n")
    assert main(["report", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Three figures" in printed and "| task |" not in printed and "report.csv" in printed


def test_zhou_quick_long_gives_each_hinted_task_a_model_deep_enough_for_its_program():
    # v3-v5's premise: the trained model has at least the layers and heads per layer of the ✓ program it is about,
    # and forward addition's ✗ partner trains the same model as the hinted one (the contrast changes the hints only)
    from pathlib import Path

    import rasp
    from experiments.length.profiles import PROFILES
    from experiments.length.resolve import for_run

    programs = Path(__file__).resolve().parent.parent / "programs"
    for task, depth in (("addition_hints", 5), ("addition_hints_reversed", 4), ("parity_scratchpad", 3)):
        shape = rasp.measure(rasp.load(programs / f"{task}.rasp"))
        model = for_run(PROFILES["zhou-quick-long"], task, "ape").architecture
        assert model.layers >= shape.layers == depth and model.heads >= shape.max_heads_per_layer, task
    hinted, plain = (
        for_run(PROFILES["zhou-quick-long"], t, "ape").architecture for t in ("addition_hints", "zhou_addition")
    )
    assert plain == hinted


def test_zhou_quick_copy40_changes_only_the_copy_rows_lengths_and_vocabulary():
    # v7/v8's premise: against the versions that decided the copy rows (v2 APE, v6 NoPE), only the lengths (the zhou
    # profile's) and the vocabulary (all 150 numbers, which copying 80 unique tokens needs) change
    from dataclasses import replace

    from experiments.length.profiles import PROFILES
    from experiments.length.protocol import get_protocol
    from experiments.length.resolve import for_run

    for new, old in ((7, 2), (8, 6)):
        then, now = get_protocol("zhou-quick", old), get_protocol("zhou-quick", new)
        assert set(now.encodings) <= set(then.encodings) and set(now.scope) == set(then.scope)
        for task in now.scope:
            for pe in now.encodings:
                before, after = (for_run(p.resolved_profile(), task, pe) for p in (then, now))
                paper = for_run(PROFILES["zhou"], task, pe)
                assert (
                    (after.train_lengths, after.test_bins)
                    == (paper.train_lengths, paper.test_bins)
                    == ((1, 40), ((1, 40), (41, 50), (51, 80)))
                )
                assert after.vocabulary_limit is None and before.vocabulary_limit == 64
                same = dict(train_lengths=before.train_lengths, test_bins=before.test_bins, vocabulary_limit=64)
                assert replace(after, name=before.name, **same) == before, (task, pe)


@pytest.mark.parametrize("new, old", [(9, 7), (10, 1)])
def test_the_no_offset_controls_change_only_the_position_offsets(new, old):
    # v9 is v7's control and v10 v1's (its mode and sort APE rows): every run's values as the earlier version's,
    # except that APE trains from position 0
    from experiments.length.protocol import get_protocol
    from experiments.length.resolve import for_run

    then, now = get_protocol("zhou-quick", old), get_protocol("zhou-quick", new)
    assert tuple(now.encodings) == ("ape",) and now.seeds == then.seeds and set(now.scope) <= set(then.tasks())
    for task in now.scope:
        before, after = (for_run(p.resolved_profile(), task, "ape") for p in (then, now))
        assert before.position_offsets and not after.position_offsets
        assert after.with_(name=before.name, position_offsets=True) == before, task
    assert "trained from position 0" in " ".join(now.describe()) and "from position 0" not in " ".join(then.describe())
