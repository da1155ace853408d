"""Experiments that check the toolkit's predictions against trained models.

- `length/`: the length-generalization study (Huang et al.'s C-RASP suite and Zhou et al.'s RASP-L suite):
  profiles and pre-registered protocols, one run (`train.Run`), the runner, the run record, the report.
- `compiled/`: the compiled-vs-trained study: a model trained on a program's own outputs beside its compiled
  weights (`study`), attention maps compared with the selectors (`attention_maps`).
- `training/`: what both train with: batches (`data`), the packed forward pass (`stacked_model`) and the
  optimizer update and exact match (`steps`).
"""
