"""Every report committed under docs/results is what `rasp report` makes of its results.jsonl today, byte for byte
(report.md and report.csv; the plots are left out: their bytes depend on matplotlib's version)."""

import shutil
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
REPORTED = sorted(d for d in RESULTS.iterdir() if (d / "report.md").exists() and (d / "results.jsonl").exists())


def test_there_are_committed_reports():
    assert len(REPORTED) >= 8


@pytest.mark.parametrize("directory", REPORTED, ids=[d.name for d in REPORTED])
def test_a_committed_report_regenerates_byte_for_byte(directory, tmp_path, monkeypatch):
    from experiments.length import plots
    from experiments.length.report import write_report

    monkeypatch.setattr(plots, "plot_accuracy", lambda rows, path: None)
    monkeypatch.setattr(plots, "plot_training", lambda records, converged_at, path: None)
    copy = tmp_path / directory.name
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("report.md", "report.csv", "*.png"))
    write_report(copy)
    for name in ("report.md", "report.csv"):
        assert (copy / name).read_bytes() == (directory / name).read_bytes(), f"{directory.name}/{name} differs"


def test_zhou_rows_get_their_own_lists_and_no_huang_heading():
    report = (RESULTS / "zhou-quick" / "report.md").read_text()
    assert "\n## Disagreements with the prediction" not in report  # no Huang et al. rows in this run
    assert "## Zhou et al.'s suite: Disagreements with the prediction" in report
    assert "- **mode_poor, APE**" in report and "Paper: ✗ (its numbers were not recovered)" in report
    assert "## Zhou et al.'s suite: No outcome" in report
    # a model shallower than the task's program is flagged (v1 gave the hinted additions 3 layers, the programs 4-5)
    assert "| L3H4W64lr0.001 (fewer layers than the program's 5) |" in report
    assert "| L3H4W64lr0.001 |" in report.split("| parity_scratchpad | APE |")[1]  # its program has 3


def test_a_tally_takes_each_row_from_the_latest_version_that_ran_it(capsys):
    from rasp_cli import main

    assert main(["tally", str(RESULTS / "zhou-quick-v2"), str(RESULTS / "zhou-quick")]) == 0  # order: by version
    table = capsys.readouterr().out
    rows = {line.split(" | ")[0] + " " + line.split(" | ")[1]: line for line in table.splitlines() if line[:2] == "| "}
    assert len(rows) == 22 + 1  # Zhou et al.'s 22 rows and the header
    copy = rows["| zhou_copy_repeat APE"]  # no outcome in v1, decided by v2
    assert "| v2 |" in copy and "| fails | ✓ | v1: no outcome |" in copy
    assert "| v1 |" in rows["| mode APE"] and rows["| mode APE"].endswith("| generalizes | ✓ | – |")
    assert "with an outcome: 11 (8 generalize, 3 fail); agree with the prediction: 8 of 11" in table
    assert "| v2 | 1–20 / 21–30 / 31–40 | L2H2W64lr0.001 |" in copy  # the lengths it was decided on


def test_a_tallys_earlier_outcome_keeps_its_figure_and_lengths():
    # a later version may rerun a row on other lengths: what the earlier one found must stay readable beside it
    from experiments.length.report import load_rows
    from experiments.length.tally import _outcome_text

    rows = {(r.task, r.pe): r for r in load_rows(RESULTS / "zhou-quick-v2")[0]}
    assert _outcome_text(rows["zhou_copy_unique", "ape"]) == "fails (69.0% at 21–30)"
    assert _outcome_text(rows["zhou_copy_unique", "nope"]) == "no outcome"


def test_a_tally_written_to_a_file_draws_its_figure_beside_it(tmp_path, capsys):
    from rasp_cli import main

    out = tmp_path / "tally.md"
    assert main(["tally", str(RESULTS / "zhou-quick"), str(RESULTS / "zhou-quick-v2"), "--out", str(out)]) == 0
    assert out.read_text() == capsys.readouterr().out.split(f"wrote {out}")[0]  # the table as printed
    assert out.with_suffix(".png").stat().st_size > 10_000  # a line per row (22)


def test_a_tally_refuses_directories_of_different_protocols(capsys):
    from rasp_cli import main

    assert main(["tally", str(RESULTS / "quick"), str(RESULTS / "zhou-quick")]) != 0
    err = capsys.readouterr().err
    assert "different protocols" in err and "Traceback" not in err


def test_the_committed_tally_regenerates_byte_for_byte(monkeypatch):
    from experiments.length.tally import tally_markdown

    committed = (RESULTS / "zhou-quick-tally.md").read_text()
    command = committed.splitlines()[0].strip("`").split()  # `rasp tally DIR ...`, as it was made
    assert command[:2] == ["rasp", "tally"]
    monkeypatch.chdir(RESULTS.parent.parent)
    assert tally_markdown([Path(d) for d in command[2:]]) == committed


def test_a_row_still_running_supersedes_nothing(tmp_path):
    # v4 as it stood mid-run (its APE runs and one NoPE run of three): the NoPE row stays as v1 left it and is named
    # as still running
    from experiments.length.tally import tally_markdown

    partial = tmp_path / "zhou-quick-v4"
    shutil.copytree(RESULTS / "zhou-quick-v4", partial)
    lines = (partial / "results.jsonl").read_text().splitlines(keepends=True)
    (partial / "results.jsonl").write_text(
        "".join(line for line in lines if '"pe": "ape"' in line)
        + next(line for line in lines if '"pe": "nope"' in line)
    )
    table = tally_markdown([RESULTS / "zhou-quick", partial])
    nope = next(line for line in table.splitlines() if line.startswith("| parity_scratchpad | NoPE |"))
    assert "| v1 |" in nope and "| no outcome |" in nope
    assert (
        "still running, so not counted (a row is judged on all its seeds): parity_scratchpad NoPE (v4: 1 of 3" in table
    )
    # with no NoPE run recorded at all, the row the version runs is still named as under way
    (partial / "results.jsonl").write_text("".join(line for line in lines if '"pe": "ape"' in line))
    assert "parity_scratchpad NoPE (v4: 0 of 3 runs)" in tally_markdown([RESULTS / "zhou-quick", partial])


def test_an_interval_that_whole_percents_would_make_one_point_is_shown_to_a_tenth():
    # "[100, 100]" beside 99.9% reads as no uncertainty, and puts the lower bound above the estimate
    text = (RESULTS / "zhou-quick" / "report.md").read_text()
    count_ape = next(line for line in text.splitlines() if line.startswith("| count | APE |"))
    assert "| 99.9 / 99.9 / 95.7 / 91.5 | [99.5, 100.0] |" in count_ape
    assert "[100, 100]" not in text and "[0, 0]" not in text
    assert "| [84, 90] |" in text  # the others stay in whole percents
