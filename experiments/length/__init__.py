"""The length-generalization study: train on short inputs, test on longer ones, judge each task × encoding row
against the toolkit's prediction and the paper's result (docs/experiments.md)."""
